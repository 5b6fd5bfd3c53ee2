/* checkpoint: a run's state <-> one file, written atomically and checksummed. */
#include "checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util.h"

static const char magic[8] = {'E', 'V', 'O', 'T', 'C', 'K', 'P', 'T'};

static void grow(et_ckpt *c, size_t more)
{
    if (c->len + more <= c->cap)
        return;
    size_t cap = c->cap ? c->cap : 4096;
    while (cap < c->len + more)
        cap *= 2;
    unsigned char *b = realloc(c->buf, cap);
    if (!b) {
        et_error(NULL, 0, "out of memory (checkpoint)");
        exit(ET_EXIT_INPUT);
    }
    c->buf = b;
    c->cap = cap;
}

static void put(et_ckpt *c, const void *p, size_t n)
{
    grow(c, n);
    memcpy(c->buf + c->len, p, n);
    c->len += n;
}

static void put_le(et_ckpt *c, uint64_t v, int bytes)
{
    unsigned char b[8], *q = b;
    et_put_le(&q, v, bytes);
    put(c, b, (size_t)bytes);
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
    return et_get_le(&p, bytes);
}

void et_ckpt_init(et_ckpt *c)
{
    memset(c, 0, sizeof *c);
    put(c, magic, 8);
    put_le(c, ET_CKPT_VERSION, 4);
    put_le(c, 0, 4); /* section count, patched at save */
}

void et_ckpt_add(et_ckpt *c, uint32_t tag, const void *data, size_t len)
{
    put_le(c, tag, 4);
    put_le(c, len, 8);
    put(c, data, len);
    c->count++;
}

void et_ckpt_free(et_ckpt *c)
{
    free(c->buf);
    memset(c, 0, sizeof *c);
}

int et_ckpt_save(et_ckpt *c, const char *path)
{
    for (int k = 0; k < 4; k++)
        c->buf[12 + k] = (unsigned char)(c->count >> (8 * k));
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, c->buf, (uInt)c->len);
    unsigned char tail[4];
    for (int k = 0; k < 4; k++)
        tail[k] = (unsigned char)(crc >> (8 * k));
    et_afile af;
    if (et_afile_open(&af, path) != 0)
        return -1;
    if (fwrite(c->buf, 1, c->len, af.fp) != c->len || fwrite(tail, 1, 4, af.fp) != 4) {
        et_error(path, 0, "cannot write checkpoint: %s", strerror(errno));
        et_afile_abort(&af);
        return -1;
    }
    return et_afile_commit(&af);
}

int et_ckpt_load(et_ckpt *c, const char *path)
{
    memset(c, 0, sizeof *c);
    FILE *f = et_fopen_read(path, "checkpoint");
    if (!f)
        return -1;
    unsigned char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        put(c, chunk, n);
    int rerr = ferror(f);
    fclose(f);
    if (rerr) {
        et_error(path, 0, "cannot read checkpoint");
        goto bad;
    }
    if (c->len < 20 || memcmp(c->buf, magic, 8) != 0) {
        et_error(path, 0,
                 c->len < 20 && c->len >= 8 && !memcmp(c->buf, magic, 8)
                     ? "checkpoint is truncated"
                     : "not an evotrain checkpoint");
        goto bad;
    }
    uint32_t version = (uint32_t)get_le(c->buf + 8, 4);
    if (version > ET_CKPT_VERSION) {
        et_error(path, 0,
                 "checkpoint format version %u is newer than this evotrain understands (%d)",
                 version, ET_CKPT_VERSION);
        goto bad;
    }
    if (version < 1) {
        et_error(path, 0, "checkpoint format version %u is not supported", version);
        goto bad;
    }
    /* Walk the sections first: a truncated file is named as such rather than
     * as a checksum failure. */
    uint32_t count = (uint32_t)get_le(c->buf + 12, 4);
    size_t pos = 16;
    for (uint32_t k = 0; k < count; k++) {
        if (c->len < 4 || pos + 12 > c->len - 4) {
            et_error(path, 0, "checkpoint is truncated");
            goto bad;
        }
        uint64_t len = get_le(c->buf + pos + 4, 8);
        if (len > c->len - 4 - (pos + 12)) {
            et_error(path, 0, "checkpoint is truncated");
            goto bad;
        }
        pos += 12 + len;
    }
    if (pos + 4 != c->len) {
        et_error(path, 0,
                 pos + 4 > c->len ? "checkpoint is truncated"
                                  : "checkpoint has trailing bytes (corrupted)");
        goto bad;
    }
    uLong crc = crc32(crc32(0L, Z_NULL, 0), c->buf, (uInt)pos);
    if ((uint32_t)crc != (uint32_t)get_le(c->buf + pos, 4)) {
        et_error(path, 0, "checkpoint checksum mismatch (the file is corrupted)");
        goto bad;
    }
    c->count = count;
    return 0;
bad:
    et_ckpt_free(c);
    return -1;
}

const void *et_ckpt_get(const et_ckpt *c, uint32_t tag, size_t *len)
{
    size_t pos = 16;
    for (uint32_t k = 0; k < c->count; k++) {
        uint32_t t = (uint32_t)get_le(c->buf + pos, 4);
        uint64_t l = get_le(c->buf + pos + 4, 8);
        if (t == tag) {
            *len = (size_t)l;
            return c->buf + pos + 12;
        }
        pos += 12 + l;
    }
    return NULL;
}
