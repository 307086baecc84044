/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * crc32c.h — CRC-32C (Castagnoli, RFC 3720 appendix B.4) for the snapshot body and the
 * journal records.  Pure; reentrant once the first call has chosen the implementation
 * (the control plane is single-threaded; a forked child inherits the choice).
 */
#ifndef OBSCURA_CP_CRC32C_H
#define OBSCURA_CP_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: start with crc = 0; cp_crc32c(cp_crc32c(0, a, n), b, m) equals the
 * CRC of a followed by b. */
uint32_t cp_crc32c(uint32_t crc, const void *buf, size_t len);
/* The same, always from the table (the reference the hardware path is tested against). */
uint32_t cp_crc32c_sw(uint32_t crc, const void *buf, size_t len);

#endif
