/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scsi_cmd.h: the SCSI command layer of a disk logical unit, independent of
 * virtio and of any I/O: a CDB (plus its parameter data, if any) goes in; out
 * come either a finished answer (status, sense, data-in bytes) or an I/O to
 * run on the backing store (read, write, flush, unmap, write same, verify,
 * compare and write).  Pure functions on plain memory, so they can be unit
 * tested and fuzzed without a daemon.
 */
#ifndef VU_SCSI_CMD_H
#define VU_SCSI_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scsi_opcodes.h"

#define SCSI_CDB_SIZE		32	/* virtio-scsi cdb_size */
#define SCSI_SENSE_SIZE		96	/* virtio-scsi sense_size */
#define SCSI_FIXED_SENSE_LEN	18
#define SCSI_MAX_LUNS		256	/* LUNs 0..255 on target 0 */
#define SCSI_MAX_XFER_BLOCKS	65536	/* reported in VPD B0; enforced */
#define SCSI_MAX_UNMAP_DESCS	64
#define SCSI_MAX_UNMAP_BLOCKS	(1u << 22)
#define SCSI_MAX_WS_BLOCKS	(1u << 22)
#define SCSI_MAX_CAW_BLOCKS	16	/* COMPARE AND WRITE, reported in B0 */
#define SCSI_PARAM_MAX		4096	/* parameter data we read, at most */
#define SCSI_DATA_MAX		4096	/* emulated data-in we build, at most */

/* SAM status codes. */
#define SAM_GOOD		0x00
#define SAM_CHECK_CONDITION	0x02
#define SAM_BUSY		0x08
#define SAM_RESERVATION_CONFLICT 0x18

/* Sense keys. */
#define SK_NO_SENSE		0x0
#define SK_NOT_READY		0x2
#define SK_MEDIUM_ERROR		0x3
#define SK_HARDWARE_ERROR	0x4
#define SK_ILLEGAL_REQUEST	0x5
#define SK_UNIT_ATTENTION	0x6
#define SK_DATA_PROTECT		0x7
#define SK_ABORTED_COMMAND	0xb
#define SK_MISCOMPARE		0xe

/* Additional sense code and qualifier, as asc << 8 | ascq. */
#define ASC_NONE			0x0000
#define ASC_WRITE_ERROR			0x0c00
#define ASC_UNRECOVERED_READ_ERROR	0x1100
#define ASC_PARAM_LIST_LENGTH_ERROR	0x1a00
#define ASC_MISCOMPARE_VERIFY		0x1d00
#define ASC_INVALID_OPCODE		0x2000
#define ASC_LBA_OUT_OF_RANGE		0x2100
#define ASC_INVALID_FIELD_IN_CDB	0x2400
#define ASC_LUN_NOT_SUPPORTED		0x2500
#define ASC_INVALID_FIELD_IN_PARAM	0x2600
#define ASC_WRITE_PROTECTED		0x2700
#define ASC_SPACE_ALLOC_FAILED_WP	0x2707
#define ASC_INVALID_RELEASE		0x2604
#define ASC_POWER_ON_RESET		0x2900
#define ASC_SAVING_NOT_SUPPORTED	0x3900
#define ASC_CAPACITY_CHANGED		0x2a09
#define ASC_REPORTED_LUNS_CHANGED	0x3f0e
#define ASC_INTERNAL_TARGET_FAILURE	0x4400

/* One logical unit as the command layer sees it. */
struct scsi_lu {
	uint16_t lun;
	uint64_t nblocks;	/* logical blocks */
	uint32_t lbs;		/* logical block size */
	uint32_t pbs;		/* physical block size */
	uint32_t opt_blocks;	/* optimal transfer length, blocks (0: none) */
	bool read_only;
	bool thin;		/* unmap supported (logical block provisioning) */
	bool lbprz;		/* unmapped blocks read as zeros */
	bool wce;		/* write cache enabled (MODE SELECT may change) */
	bool wce_default;	/* WCE at start-up, from the cache mode */
	char serial[33];	/* VPD 80, NUL-terminated */
	uint64_t naa;		/* VPD 83 NAA designator (NAA 6 or 3) */
	/* Persistent reservations (SPC-4, the basic set). */
	uint64_t pr_generation;
	uint64_t pr_key;	/* the one initiator's registered key; 0: none */
	uint8_t pr_type;	/* 0: not reserved */
	/* A unit attention to report once (ASC_*), 0: none. */
	uint16_t pending_ua;
};

/* The LUNs of target 0, for REPORT LUNS. */
struct scsi_target {
	uint16_t luns[SCSI_MAX_LUNS];
	unsigned int nluns;
};

enum scsi_exec {
	SCSI_X_DONE,		/* answered: status, sense and data are set */
	SCSI_X_READ,		/* lba, nblocks to data-in */
	SCSI_X_WRITE,		/* lba, nblocks from data-out; fua */
	SCSI_X_FLUSH,		/* SYNCHRONIZE CACHE */
	SCSI_X_UNMAP,		/* the descriptors in unmap[] */
	SCSI_X_WRITE_SAME,	/* lba, nblocks; unmap, ndob (zero data) */
	SCSI_X_VERIFY,		/* lba, nblocks; bytchk: compare with data-out */
	SCSI_X_WRITE_VERIFY,	/* a durable write, read back and compared */
	SCSI_X_COMPARE_WRITE,	/* lba, nblocks: compare half, write half */
};

struct scsi_extent {
	uint64_t lba;
	uint32_t nblocks;
};

struct scsi_cmd {
	/* Inputs. */
	const uint8_t *cdb;		/* SCSI_CDB_SIZE bytes */
	uint32_t out_len;		/* data-out bytes the driver supplied */
	uint32_t in_len;		/* data-in bytes the driver can take */
	const uint8_t *param;		/* data-out bytes, when parsed */
	uint32_t param_len;
	/* Results. */
	enum scsi_exec exec;
	uint8_t status;
	uint8_t key;
	uint16_t asc;			/* asc << 8 | ascq */
	uint64_t lba;
	uint32_t nblocks;
	bool fua;
	bool unmap;
	bool ndob;
	bool bytchk;
	bool info_valid;		/* sense INFORMATION field is set */
	uint32_t info;
	uint32_t data_len;		/* data-in bytes built in data[] */
	uint32_t xfer_out;		/* data-out bytes the command uses */
	uint32_t xfer_in;		/* data-in bytes the command returns */
	struct scsi_extent unmap_list[SCSI_MAX_UNMAP_DESCS];
	unsigned int nunmap;
	const char *why;		/* for the log, when refused */
};

/* Does this opcode take its parameter data from data-out to be parsed? */
bool scsi_needs_param(const uint8_t *cdb);

/*
 * Decode and, where no I/O is needed, answer c->cdb for lu.  data holds
 * SCSI_DATA_MAX bytes for the data-in an emulated command builds.  Never
 * fails: a bad CDB is answered with CHECK CONDITION and its sense.
 */
void scsi_exec_cdb(struct scsi_lu *lu, const struct scsi_target *t,
		   struct scsi_cmd *c, uint8_t *data);

/* Answer with CHECK CONDITION, key and asc; why is for the log. */
void scsi_fail(struct scsi_cmd *c, uint8_t key, uint16_t asc,
	       const char *why);
/* Fixed-format sense data for key/asc into buf (SCSI_FIXED_SENSE_LEN). */
void scsi_build_sense(uint8_t *buf, uint8_t key, uint16_t asc);

/* REPORT LUNS for t, on any LU (c->cdb checked, data-in into data). */
void scsi_report_luns(const struct scsi_target *t, struct scsi_cmd *c,
		      uint8_t *data);
/* A command addressed to a LUN that does not exist. */
void scsi_exec_absent(const struct scsi_target *t, struct scsi_cmd *c,
		      uint8_t *data);
/* Addressing of the REPORT LUNS well-known logical unit. */
void scsi_exec_wlun(const struct scsi_target *t, struct scsi_cmd *c,
		    uint8_t *data);

/* Does lu support some command with operation code op? */
bool scsi_op_supported(const struct scsi_lu *lu, uint8_t op);

/* Emulated commands, by command set (spc.c, sbc.c). */
bool spc_exec(struct scsi_lu *lu, const struct scsi_target *t,
	      struct scsi_cmd *c, uint8_t *data);
bool sbc_exec(struct scsi_lu *lu, struct scsi_cmd *c, uint8_t *data);

/* Big-endian helpers for CDB fields. */
static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static inline void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, v >> 32);
	put_be32(p + 4, (uint32_t)v);
}

#endif
