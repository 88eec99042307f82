/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scsi_list.h: the intrusive circular list the virtio-scsi controller
 * keeps its commands on (a LUN's held and waiting commands, a batch of
 * aborted ones).  A list's head is a link too; an unlinked link points
 * at itself.
 */
#ifndef VU_SCSI_LIST_H
#define VU_SCSI_LIST_H

#include <stdbool.h>

struct scsi_link {
	struct scsi_link *prev, *next;
};

static inline void link_init(struct scsi_link *head)
{
	head->prev = head;
	head->next = head;
}

static inline bool list_empty(const struct scsi_link *head)
{
	return head->next == head;
}

static inline void link_add_tail(struct scsi_link *head, struct scsi_link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static inline void link_del(struct scsi_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	link_init(l);
}

#endif
