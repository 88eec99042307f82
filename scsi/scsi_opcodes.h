/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scsi_opcodes.h: the operation codes (CDB byte 0) and service actions of
 * the commands the emulated disk knows, with SPC-5 and SBC-4 names.
 */
#ifndef VU_SCSI_OPCODES_H
#define VU_SCSI_OPCODES_H

#define SCSI_OP_TEST_UNIT_READY		0x00
#define SCSI_OP_REQUEST_SENSE		0x03
#define SCSI_OP_READ_6			0x08
#define SCSI_OP_WRITE_6			0x0a
#define SCSI_OP_INQUIRY			0x12
#define SCSI_OP_MODE_SELECT_6		0x15
#define SCSI_OP_MODE_SENSE_6		0x1a
#define SCSI_OP_START_STOP_UNIT		0x1b
#define SCSI_OP_PREVENT_ALLOW_REMOVAL	0x1e
#define SCSI_OP_READ_CAPACITY_10	0x25
#define SCSI_OP_READ_10			0x28
#define SCSI_OP_WRITE_10		0x2a
#define SCSI_OP_WRITE_VERIFY_10		0x2e
#define SCSI_OP_VERIFY_10		0x2f
#define SCSI_OP_SYNC_CACHE_10		0x35
#define SCSI_OP_WRITE_SAME_10		0x41
#define SCSI_OP_UNMAP			0x42
#define SCSI_OP_MODE_SELECT_10		0x55
#define SCSI_OP_MODE_SENSE_10		0x5a
#define SCSI_OP_PR_IN			0x5e
#define SCSI_OP_PR_OUT			0x5f
#define SCSI_OP_READ_16			0x88
#define SCSI_OP_COMPARE_AND_WRITE	0x89
#define SCSI_OP_WRITE_16		0x8a
#define SCSI_OP_WRITE_VERIFY_16		0x8e
#define SCSI_OP_VERIFY_16		0x8f
#define SCSI_OP_SYNC_CACHE_16		0x91
#define SCSI_OP_WRITE_SAME_16		0x93
#define SCSI_OP_SERVICE_ACTION_IN_16	0x9e
#define SCSI_OP_REPORT_LUNS		0xa0
#define SCSI_OP_MAINTENANCE_IN		0xa3
#define SCSI_OP_READ_12			0xa8
#define SCSI_OP_WRITE_12		0xaa
#define SCSI_OP_WRITE_VERIFY_12		0xae
#define SCSI_OP_VERIFY_12		0xaf

/* Service actions (CDB byte 1, bits 4-0). */
#define SCSI_SAI_READ_CAPACITY_16	0x10	/* of SERVICE ACTION IN(16) */
#define SCSI_MI_REPORT_OPCODES		0x0c	/* of MAINTENANCE IN */

#endif
