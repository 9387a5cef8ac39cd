/*
 * ws.c - RFC 6455 framing and handshake arithmetic for loadgen (ws.h):
 * base64, a SHA-1 just big enough to check Sec-WebSocket-Accept, frame
 * header parsing for 7-, 16- and 64-bit lengths, and masking.
 */
#include "ws.h"

#include <string.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

static const char base64_digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Writes 4 * ceil(len / 3) characters and a NUL. */
static void base64(const unsigned char *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = base64_digits[(v >> 18) & 63];
        out[o++] = base64_digits[(v >> 12) & 63];
        out[o++] = i + 1 < len ? base64_digits[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? base64_digits[v & 63] : '=';
    }
    out[o] = '\0';
}

static uint32_t rotl(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const unsigned char *block)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 |
               (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d), k = 0x5a827999;
        } else if (i < 40) {
            f = b ^ c ^ d, k = 0x6ed9eba1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
        } else {
            f = b ^ c ^ d, k = 0xca62c1d6;
        }
        uint32_t t = rotl(a, 5) + f + e + k + w[i];
        e = d, d = c, c = rotl(b, 30), b = a, a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

/* SHA-1 of at most 119 bytes (two blocks with the padding): enough for a
 * 24-character key and the GUID. */
static void sha1_short(const unsigned char *msg, size_t len, unsigned char digest[20])
{
    unsigned char buf[128] = {0};
    uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    size_t total = len + 9 <= 64 ? 64 : 128;
    memcpy(buf, msg, len);
    buf[len] = 0x80;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        buf[total - 1 - i] = (unsigned char)(bits >> (8 * i));
    for (size_t off = 0; off < total; off += 64)
        sha1_block(h, buf + off);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++)
            digest[4 * i + j] = (unsigned char)(h[i] >> (24 - 8 * j));
}

void ws_key(const unsigned char random[16], char out[WS_KEY_LEN + 1])
{
    base64(random, 16, out);
}

void ws_accept(const char *key, char out[WS_ACCEPT_LEN + 1])
{
    unsigned char msg[WS_KEY_LEN + sizeof WS_GUID];
    size_t klen = strnlen(key, WS_KEY_LEN);
    memcpy(msg, key, klen);
    memcpy(msg + klen, WS_GUID, sizeof WS_GUID - 1);
    unsigned char digest[20];
    sha1_short(msg, klen + sizeof WS_GUID - 1, digest);
    base64(digest, 20, out);
}

int ws_parse_header(const unsigned char *p, size_t avail, struct ws_frame *f)
{
    if (avail < 2)
        return 0;
    if (p[0] & 0x70)
        return -1;
    f->fin = (p[0] & 0x80) != 0;
    f->opcode = p[0] & 0x0f;
    f->masked = (p[1] & 0x80) != 0;
    unsigned len7 = p[1] & 0x7f;
    size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    f->header_len = 2 + ext + (f->masked ? 4 : 0);
    if (avail < f->header_len)
        return 0;
    f->payload_len = len7;
    if (ext) {
        f->payload_len = 0;
        for (size_t i = 0; i < ext; i++)
            f->payload_len = f->payload_len << 8 | p[2 + i];
    }
    if (f->masked)
        memcpy(f->mask, p + 2 + ext, 4);
    if (f->opcode >= 8 && (!f->fin || f->payload_len > 125))
        return -1;
    return 1;
}

void ws_unmask(unsigned char *p, size_t len, const unsigned char mask[4])
{
    unsigned char m8[8];
    for (int i = 0; i < 8; i++)
        m8[i] = mask[i & 3];
    uint64_t m;
    memcpy(&m, m8, 8);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        v ^= m;
        memcpy(p + i, &v, 8);
    }
    for (; i < len; i++)
        p[i] ^= mask[i & 3];
}

size_t ws_encode(unsigned char *out, size_t cap, int opcode, const void *payload, size_t len,
                 uint32_t mask)
{
    size_t ext = len < 126 ? 0 : len <= 0xffff ? 2 : 8;
    size_t header = 2 + ext + 4;
    if (cap < header || cap - header < len)
        return 0;
    out[0] = (unsigned char)(0x80 | (opcode & 0x0f));
    out[1] = (unsigned char)(0x80 | (ext == 0 ? len : ext == 2 ? 126 : 127));
    for (size_t i = 0; i < ext; i++)
        out[2 + i] = (unsigned char)((uint64_t)len >> (8 * (ext - 1 - i)));
    unsigned char key[4] = {(unsigned char)(mask >> 24), (unsigned char)(mask >> 16),
                            (unsigned char)(mask >> 8), (unsigned char)mask};
    memcpy(out + 2 + ext, key, 4);
    memcpy(out + header, payload, len);
    ws_unmask(out + header, len, key);
    return header + len;
}
