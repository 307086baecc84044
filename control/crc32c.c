/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * crc32c.c — table-driven CRC-32C (reflected polynomial 0x82F63B78).  Slicing by one
 * byte is plenty: the cp checksums a snapshot every few minutes and a journal record
 * per drained epoch, far from the hot path.
 */
#include "crc32c.h"

static uint32_t cp_crc_table[256];
static int cp_crc_ready;

static void cp_crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		cp_crc_table[i] = c;
	}
	cp_crc_ready = 1;
}

uint32_t cp_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!cp_crc_ready)
		cp_crc_init();
	crc = ~crc;
	while (len--)
		crc = cp_crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
