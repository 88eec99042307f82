// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * scsi-front.c: the set-up and helpers the front-end tests of
 * vhost-uring-scsi share (scsi-front.h): the daemon and its LUNs, the
 * host image's side, CDBs and the reading of responses.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scsi-front.h"
#include "tap.h"
#include "test-util.h"

struct test_env env;
char lun_a_arg[400];
uint8_t lun_a[8], lun_b[8], lun_absent[8], lun_t1[8];
const uint8_t wlun_short[8] = { 0xc1, 0x01 };
unsigned int env_threads = 1;
static char img_b[300];
static char lun_b_arg[400];
static char threads_arg[32];

/* ---- host side ------------------------------------------------------- */

void host_pread(const char *path, void *buf, size_t len, off_t off)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0 || pread(fd, buf, len, off) != (ssize_t)len)
		memset(buf, 0xee, len);
	if (fd >= 0)
		close(fd);
}

void host_pwrite(const void *buf, size_t len, off_t off)
{
	int fd = open(env.img, O_WRONLY);

	if (fd < 0 || pwrite(fd, buf, len, off) != (ssize_t)len || fsync(fd) < 0)
		exit(99);
	close(fd);
}

bool host_is(const void *want, size_t len, off_t off)
{
	uint8_t *buf = malloc(len);
	bool same;

	host_pread(env.img, buf, len, off);
	same = memcmp(buf, want, len) == 0;
	free(buf);
	return same;
}

bool all_bytes(const uint8_t *p, size_t len, uint8_t c)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i] != c)
			return false;
	}
	return true;
}

/* ---- CDBs ------------------------------------------------------------ */

void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = (uint8_t)v;
}

void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, (uint16_t)v);
}

void put64(uint8_t *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, (uint32_t)v);
}

uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | p[2] << 8 | p[3];
}

/*
 * A CDB of size 10 or 16 with an LBA and a length (READ(10), READ(16) and
 * friends): a 32-bit LBA and 16-bit length, or 64 and 32 bits.
 */
static void cdb_lba(uint8_t *cdb, unsigned int size, uint8_t op, uint8_t b1,
		    uint64_t lba, uint32_t len)
{
	memset(cdb, 0, size);
	cdb[0] = op;
	cdb[1] = b1;
	if (size == 10) {
		put32(cdb + 2, (uint32_t)lba);
		put16(cdb + 7, (uint16_t)len);
	} else {
		put64(cdb + 2, lba);
		put32(cdb + 10, len);
	}
}

void cdb10(uint8_t *cdb, uint8_t op, uint8_t b1, uint32_t lba, uint16_t len)
{
	cdb_lba(cdb, 10, op, b1, lba, len);
}

void cdb16(uint8_t *cdb, uint8_t op, uint8_t b1, uint64_t lba, uint32_t len)
{
	cdb_lba(cdb, 16, op, b1, lba, len);
}

int rw10(struct scsic *c, const uint8_t *lun, uint8_t op, uint8_t b1,
	 uint32_t lba, uint16_t nblocks, uint32_t buf_len,
	 struct scsic_res *r)
{
	uint8_t cdb[10];
	bool out = op != 0x28;

	cdb10(cdb, op, b1, lba, nblocks);
	return scsic_cmd(c, lun, cdb, 10, out ? buf_len : 0, out ? 0 : buf_len, r);
}

bool good(int ret, const struct scsic_res *r)
{
	return ret == 0 && r->response == VIRTIO_SCSI_S_OK && r->status == GOOD;
}

uint8_t sense_key(const struct scsic_res *r)
{
	return r->sense[2] & 0xf;
}

uint16_t sense_asc(const struct scsic_res *r)
{
	return (uint16_t)(r->sense[12] << 8 | r->sense[13]);
}

bool check_cond(int ret, const struct scsic_res *r, uint8_t key, uint16_t asc)
{
	return ret == 0 && r->response == VIRTIO_SCSI_S_OK &&
	       r->status == CHECK_COND && r->sense_len >= 14 &&
	       r->sense_len <= VIRTIO_SCSI_SENSE_SIZE &&
	       (r->sense[0] & 0x7f) == 0x70 && sense_key(r) == key &&
	       sense_asc(r) == asc;
}

void diag_res(const char *what, int ret, const struct scsic_res *r)
{
	tap_diag("%s: ret %d response %u status 0x%02x sense_len %u key 0x%x asc 0x%04x resid %u used %u",
		 what, ret, r->response, r->status, r->sense_len, sense_key(r),
		 sense_asc(r), r->resid, r->used_len);
}

int tur(struct scsic *c, const uint8_t *lun, struct scsic_res *r)
{
	uint8_t cdb[6] = { 0 };

	return scsic_cmd(c, lun, cdb, 6, 0, 0, r);
}

void cdb_caw(uint8_t *cdb, uint64_t lba, uint8_t n)
{
	memset(cdb, 0, 16);
	cdb[0] = 0x89;
	put64(cdb + 2, lba);
	cdb[13] = n;
}

/* ---- the daemon -------------------------------------------------------- */

bool scsi_front_init(void)
{
	if (!test_env_init(&env, IMG_SIZE))
		return false;
	if (getenv("TEST_SCSI_THREADS"))
		env_threads = (unsigned int)atoi(getenv("TEST_SCSI_THREADS"));
	if (env_threads < 1 || env_threads > 2)
		env_threads = 1;
	snprintf(threads_arg, sizeof(threads_arg), "--num-threads=%u", env_threads);
	snprintf(img_b, sizeof(img_b), "%s/disk-b.img", harness_dir());
	image_create(img_b, 8u << 20);
	snprintf(lun_a_arg, sizeof(lun_a_arg), "--lun=%u,file=%s", LUN_A, env.img);
	snprintf(lun_b_arg, sizeof(lun_b_arg), "--lun=%u,file=%s,serial=vu-b",
		 LUN_B, img_b);
	scsic_lun(lun_a, 0, LUN_A);
	scsic_lun(lun_b, 0, LUN_B);
	scsic_lun(lun_absent, 0, LUN_ABSENT);
	scsic_lun(lun_t1, 1, LUN_A);
	return true;
}

int scsi_front_daemon(struct daemon *d)
{
	const char *args[] = { lun_a_arg, lun_b_arg, env.aio_arg,
			       "--num-queues=2", threads_arg, NULL };

	return daemon_start_bin(d, scsi_daemon_binary(), args);
}

int open_client(struct scsic *c, struct daemon *d)
{
	int ret = scsic_open(c, d->sock, 2, ~0ull);

	c->rq = env_threads > 1;
	return ret;
}

bool scsi_serves(struct daemon *d, uint32_t lba)
{
	struct scsic_res r;
	struct scsic c;
	bool served = false;
	uint8_t want[4096];

	if (!daemon_alive(d) || open_client(&c, d) < 0)
		goto out;
	pattern(want, sizeof(want), lba);
	memcpy(c.dout, want, sizeof(want));
	/* A pending unit attention may answer the first command. */
	tur(&c, lun_a, &r);
	if (!good(rw10(&c, lun_a, 0x2a, 0, lba, 8, 4096, &r), &r))
		goto out;
	memset(c.din, 0, 4096);
	served = good(rw10(&c, lun_a, 0x28, 0, lba, 8, 4096, &r), &r) &&
		 !memcmp(c.din, want, sizeof(want));
out:
	scsic_close(&c);
	return served;
}
