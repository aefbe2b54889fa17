/*
 * raw_c.c: the raw work of `ledger import`, in C, on one thread, with the same libraries (libsodium, liblmdb).
 *
 * Per record, exactly what the ledger stores (docs/FORMAT.md, entry v2):
 *   read the JSONL line (the file is read whole), parse it strictly (flat object: strings, integers, booleans,
 *   arrays of strings), check the required fields and the enums, sort the fields by name;
 *   16-byte salt seed and 24-byte nonce from randombytes (one draw per batch, as the ledger does);
 *   per field: salt = keyed BLAKE2b-128(seed, "client-ledger/salt/v1" || u16 i), disclosure JSON
 *   ["<b64url salt>","<name>",<value>], disclosure = base64url(JSON), digest = SHA-256(disclosure);
 *   fields digest = SHA-256(len || name || digest ...);
 *   payload = seed || (LEB128 len || value)...; XChaCha20-Poly1305-IETF under the batch key with associated data
 *   "client-ledger/entry/v2" || ledger id || u64 seq || u32 key id; SHA-256 of the ciphertext;
 *   matter and source tags = keyed BLAKE2b-256 under the index key;
 *   leaf v2 with the chain's previous record hash; record hash SHA-256(0x00 || leaf); RFC 6962 tree hashes
 *   stored in tlog's layout;
 *   LMDB: a get on the sources index (idempotence), puts in entries (MDB_APPEND), tree (MDB_APPEND),
 *   matters (MDB_APPENDDUP), sources (MDB_NOOVERWRITE);
 *   per batch and matter: a fresh 32-byte batch key sealed to the matter's X25519 key pair (crypto_box_seal),
 *   stored in keys; batches of 8192 records, each one durable transaction (fsync; never MDB_NOSYNC).
 * SHA-256 is libsodium's crypto_hash_sha256 (the library's own code, as "the same libraries" means).
 *
 * Build: see tools/baseline/build.sh.  Run: raw_c FILE.jsonl DIR   (DIR must not exist; it is created)
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH 8192
#define MAX_FIELDS 32
#define MAX_MATTERS 4096

static void die(const char *what, int rc) {
    fprintf(stderr, "raw_c: %s: %s\n", what, rc ? mdb_strerror(rc) : "failed");
    exit(1);
}
#define CK(call) do { int rc_ = (call); if (rc_) die(#call, rc_); } while (0)

typedef struct { const char *name; size_t name_len; const char *value; size_t value_len; } Field;
typedef struct { Field f[MAX_FIELDS]; int n; const char *matter; size_t matter_len;
                 const char *ssys; size_t ssys_len; const char *sid; size_t sid_len; } Record;

/* ---- strict JSON (the subset records use) ---- */
static const char *skip_ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
    return p;
}
static const char *parse_string(const char *p, const char *e) {  /* p at '"'; returns after closing quote */
    if (p >= e || *p != '"') return NULL;
    for (p++; p < e; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p + 1;
        if (c < 0x20) return NULL;
        if (c == '\\') {
            p++;
            if (p >= e) return NULL;
            if (*p == 'u') { for (int i = 0; i < 4; i++) if (++p >= e || !isxdigit((unsigned char)*p)) return NULL; }
            else if (!strchr("\"\\/bfnrt", *p)) return NULL;
        } else if (c >= 0x80) {  /* UTF-8 validation */
            int n = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
            if (n < 0) return NULL;
            for (int i = 0; i < n; i++) if (++p >= e || ((unsigned char)*p & 0xC0) != 0x80) return NULL;
        }
    }
    return NULL;
}
static const char *parse_value(const char *p, const char *e) {
    if (p >= e) return NULL;
    if (*p == '"') return parse_string(p, e);
    if (*p == '[') {
        p = skip_ws(p + 1, e);
        if (p < e && *p == ']') return p + 1;
        for (;;) {
            if (!(p = parse_string(skip_ws(p, e), e))) return NULL;
            p = skip_ws(p, e);
            if (p < e && *p == ',') { p++; continue; }
            if (p < e && *p == ']') return p + 1;
            return NULL;
        }
    }
    if (*p == '-' || (*p >= '0' && *p <= '9')) {
        if (*p == '-') p++;
        const char *s = p;
        while (p < e && *p >= '0' && *p <= '9') p++;
        if (p == s || (p < e && (*p == '.' || *p == 'e' || *p == 'E'))) return NULL;  /* integers only */
        return p;
    }
    if (e - p >= 4 && !memcmp(p, "true", 4)) return p + 4;
    if (e - p >= 5 && !memcmp(p, "false", 5)) return p + 5;
    return NULL;
}
static int is_one_of(const char *v, size_t n, const char *const *set) {
    for (; *set; set++) if (strlen(*set) + 2 == n && !memcmp(v + 1, *set, n - 2)) return 1;
    return 0;
}
static const char *const channels[] = {"email", "phone", "portal", "secure-message", "sms", "video", "in-person",
                                       "letter", NULL};
static const char *const directions[] = {"inbound", "outbound", "internal", NULL};
static const char *const kinds[] = {"update", "inquiry", "response", "advice", "decision", "meeting", "deadline",
                                    "court-ruling", "settlement", "feedback", "correction", "note", NULL};
static const char *const outcomes[] = {"spoke", "left-message", "no-answer", "sent", "delivered", NULL};

static int field_cmp(const void *a, const void *b) {
    const Field *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    return c ? c : (int)x->name_len - (int)y->name_len;
}
static int name_is(const Field *f, const char *s) { return f->name_len == strlen(s) && !memcmp(f->name, s, f->name_len); }

static int parse_record(const char *p, const char *e, Record *r) {
    r->n = 0; r->matter = r->ssys = r->sid = NULL;
    p = skip_ws(p, e);
    if (p >= e || *p != '{') return 0;
    p = skip_ws(p + 1, e);
    int required = 0;
    while (p < e && *p != '}') {
        const char *k = p, *ke = parse_string(p, e);
        if (!ke || r->n == MAX_FIELDS) return 0;
        p = skip_ws(ke, e);
        if (p >= e || *p != ':') return 0;
        const char *v = skip_ws(p + 1, e), *ve = parse_value(v, e);
        if (!ve) return 0;
        Field *f = &r->f[r->n++];
        f->name = k + 1; f->name_len = (size_t)(ke - k - 2); f->value = v; f->value_len = (size_t)(ve - v);
        if (f->name_len == 0 || f->name_len > 64) return 0;
        for (int i = 0; i + 1 < r->n; i++) if (field_cmp(&r->f[i], f) == 0) return 0;  /* duplicate name */
        if (name_is(f, "matter")) { if (*v != '"') return 0; r->matter = v + 1; r->matter_len = f->value_len - 2; required |= 1; }
        else if (name_is(f, "author")) { if (*v != '"') return 0; required |= 2; }
        else if (name_is(f, "channel")) { if (!is_one_of(v, f->value_len, channels)) return 0; required |= 4; }
        else if (name_is(f, "direction")) { if (!is_one_of(v, f->value_len, directions)) return 0; required |= 8; }
        else if (name_is(f, "occurredAt")) {  /* RFC 3339 with offset: YYYY-MM-DDTHH:MM:SS(+|-)HH:MM or Z */
            if (*v != '"' || f->value_len < 22 || v[5] != '-' || v[8] != '-' || v[11] != 'T' || v[14] != ':') return 0;
            required |= 16;
        }
        else if (name_is(f, "kind")) { if (!is_one_of(v, f->value_len, kinds)) return 0; }
        else if (name_is(f, "outcome")) { if (!is_one_of(v, f->value_len, outcomes)) return 0; }
        else if (name_is(f, "sourceSystem")) { if (*v != '"') return 0; r->ssys = v + 1; r->ssys_len = f->value_len - 2; }
        else if (name_is(f, "sourceId")) { if (*v != '"') return 0; r->sid = v + 1; r->sid_len = f->value_len - 2; }
        p = skip_ws(ve, e);
        if (p < e && *p == ',') p = skip_ws(p + 1, e);
        else if (p < e && *p != '}') return 0;
    }
    if (p >= e || required != 31) return 0;
    qsort(r->f, (size_t)r->n, sizeof(Field), field_cmp);  /* leaf order: names ascending by byte */
    return 1;
}

/* ---- tlog stored-hash layout ---- */
static uint64_t stored_hash_index(uint64_t n) { uint64_t i = 0; for (; n > 0; n >>= 1) i += n; return i; }
static void be64(uint8_t *p, uint64_t v) { for (int i = 7; i >= 0; i--) { p[i] = (uint8_t)v; v >>= 8; } }
static void be32(uint8_t *p, uint32_t v) { for (int i = 3; i >= 0; i--) { p[i] = (uint8_t)v; v >>= 8; } }

typedef struct { uint8_t tag[32]; uint8_t pk[32]; uint32_t pair_id, batch_key_id; uint8_t batch_key[32];
                 uint64_t batch; } Matter;
static Matter matters[MAX_MATTERS];
static int matter_count;

static uint8_t ledger_id[16], index_key[32], tree_edge[64][32], prev_hash[32];
static uint32_t next_key_id = 1;
static MDB_dbi db_entries, db_tree, db_matters, db_sources, db_keys;

static void tag_of(const char *label, const char *a, size_t an, const char *b, size_t bn, uint8_t out[32]) {
    crypto_generichash_state st;
    crypto_generichash_init(&st, index_key, 32, 32);
    crypto_generichash_update(&st, (const uint8_t *)label, strlen(label) + 1);  /* label || 0x00 */
    crypto_generichash_update(&st, (const uint8_t *)a, an);
    if (b) { uint8_t z = 0; crypto_generichash_update(&st, &z, 1); crypto_generichash_update(&st, (const uint8_t *)b, bn); }
    crypto_generichash_final(&st, out, 32);
}

static Matter *matter_for(MDB_txn *txn, const uint8_t tag[32], uint64_t batch) {
    Matter *m = NULL;
    for (int i = 0; i < matter_count; i++) if (!memcmp(matters[i].tag, tag, 32)) { m = &matters[i]; break; }
    if (!m) {  /* a new matter: its X25519 key pair (the private half sealed to the master box key in the ledger) */
        if (matter_count == MAX_MATTERS) die("too many matters", 0);
        m = &matters[matter_count++];
        memcpy(m->tag, tag, 32);
        uint8_t sk[32], rec[1 + 32 + 4 + 32 + crypto_box_SEALBYTES + 64], kid[4];
        crypto_box_keypair(m->pk, sk);
        m->pair_id = next_key_id++;
        rec[0] = 2; memcpy(rec + 1, tag, 32); be32(rec + 33, 0); memcpy(rec + 37, m->pk, 32);
        uint8_t secret[64]; memcpy(secret, sk, 32); memcpy(secret + 32, tag, 32);
        crypto_box_seal(rec + 69, secret, 64, m->pk);  /* stands in for the seal to the master box key */
        sodium_memzero(sk, 32); sodium_memzero(secret, 64);
        be32(kid, m->pair_id);
        MDB_val k = {4, kid}, v = {sizeof rec, rec};
        CK(mdb_put(txn, db_keys, &k, &v, 0));
        m->batch = UINT64_MAX;
    }
    if (m->batch != batch) {  /* the matter's batch key for this batch */
        uint8_t rec[5 + crypto_box_SEALBYTES + 32], kid[4];
        randombytes_buf(m->batch_key, 32);
        m->batch_key_id = next_key_id++;
        rec[0] = 3; be32(rec + 1, m->pair_id);
        crypto_box_seal(rec + 5, m->batch_key, 32, m->pk);
        be32(kid, m->batch_key_id);
        MDB_val k = {4, kid}, v = {sizeof rec, rec};
        CK(mdb_put(txn, db_keys, &k, &v, 0));
        m->batch = batch;
    }
    return m;
}

static size_t leb128(uint8_t *p, uint64_t v) { size_t n = 0; do { uint8_t b = v & 0x7f; v >>= 7; p[n++] = b | (v ? 0x80 : 0); } while (v); return n; }

static uint8_t payload[1 << 20], ct[(1 << 20) + 16], entry[(1 << 20) + 4096], djson[1 << 20], disc[(1 << 21)];

static int append_record(MDB_txn *txn, const Record *r, uint64_t seq, uint64_t batch, const uint8_t *random,
                          int64_t recorded_at) {
    const uint8_t *seed = random, *nonce = random + 16;
    uint8_t mtag[32], stag[32], seqk[8];
    tag_of("matter", r->matter, r->matter_len, NULL, 0, mtag);
    int has_source = r->sid != NULL;
    if (has_source) {
        tag_of("source", r->ssys ? r->ssys : "", r->ssys ? r->ssys_len : 0, r->sid, r->sid_len, stag);
        MDB_val k = {32, stag}, v;
        int rc = mdb_get(txn, db_sources, &k, &v);
        if (rc == 0) return 0;  /* already imported */
        if (rc != MDB_NOTFOUND) die("mdb_get sources", rc);
    }
    Matter *m = matter_for(txn, mtag, batch);
    /* disclosures, digests and the payload */
    crypto_hash_sha256_state fields;
    crypto_hash_sha256_init(&fields);
    size_t pl = 0;
    memcpy(payload, seed, 16); pl = 16;
    for (int i = 0; i < r->n; i++) {
        const Field *f = &r->f[i];
        uint8_t msg[23], salt[16], digest[32], nl = (uint8_t)f->name_len;
        memcpy(msg, "client-ledger/salt/v1", 21); msg[21] = (uint8_t)(i >> 8); msg[22] = (uint8_t)i;
        crypto_generichash(salt, 16, msg, 23, seed, 16);
        size_t dl = 0;
        djson[dl++] = '['; djson[dl++] = '"';
        sodium_bin2base64((char *)djson + dl, 23, salt, 16, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        dl += 22;
        djson[dl++] = '"'; djson[dl++] = ','; djson[dl++] = '"';
        memcpy(djson + dl, f->name, f->name_len); dl += f->name_len;
        djson[dl++] = '"'; djson[dl++] = ',';
        memcpy(djson + dl, f->value, f->value_len); dl += f->value_len;
        djson[dl++] = ']';
        /* (exact output length: sodium_bin2base64 zero-fills the rest of the buffer it is given) */
        size_t disc_len = sodium_base64_ENCODED_LEN(dl, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        sodium_bin2base64((char *)disc, disc_len, djson, dl, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        crypto_hash_sha256(digest, disc, disc_len - 1);
        crypto_hash_sha256_update(&fields, &nl, 1);
        crypto_hash_sha256_update(&fields, (const uint8_t *)f->name, f->name_len);
        crypto_hash_sha256_update(&fields, digest, 32);
        pl += leb128(payload + pl, f->value_len);
        memcpy(payload + pl, f->value, f->value_len); pl += f->value_len;
    }
    uint8_t fields_digest[32], ct_hash[32], ad[22 + 16 + 8 + 4];
    crypto_hash_sha256_final(&fields, fields_digest);
    memcpy(ad, "client-ledger/entry/v2", 22); memcpy(ad + 22, ledger_id, 16); be64(ad + 38, seq);
    be32(ad + 46, m->batch_key_id);
    unsigned long long cl;
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &cl, payload, pl, ad, sizeof ad, NULL, nonce, m->batch_key);
    sodium_memzero(payload, pl);
    crypto_hash_sha256(ct_hash, ct, cl);
    /* leaf v2 (inside the stored entry: u16 leaf length || leaf || ciphertext) */
    uint8_t *leaf = entry + 2;
    size_t l = 0;
    leaf[l++] = 2; memcpy(leaf + l, ledger_id, 16); l += 16; be64(leaf + l, seq); l += 8;
    be64(leaf + l, (uint64_t)recorded_at); l += 8; memcpy(leaf + l, prev_hash, 32); l += 32;
    memcpy(leaf + l, mtag, 32); l += 32; leaf[l++] = has_source ? 1 : 0;
    if (has_source) { memcpy(leaf + l, stag, 32); l += 32; }
    be32(leaf + l, m->batch_key_id); l += 4; memcpy(leaf + l, nonce, 24); l += 24;
    memcpy(leaf + l, ct_hash, 32); l += 32; memcpy(leaf + l, fields_digest, 32); l += 32;
    leaf[l++] = (uint8_t)(r->n >> 8); leaf[l++] = (uint8_t)r->n;
    for (int i = 0; i < r->n; i++) { leaf[l++] = (uint8_t)r->f[i].name_len; memcpy(leaf + l, r->f[i].name, r->f[i].name_len); l += r->f[i].name_len; }
    entry[0] = (uint8_t)(l >> 8); entry[1] = (uint8_t)l;
    memcpy(entry + 2 + l, ct, cl);
    /* chain and tree */
    uint8_t h[32], zero = 0;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st); crypto_hash_sha256_update(&st, &zero, 1); crypto_hash_sha256_update(&st, leaf, l);
    crypto_hash_sha256_final(&st, h);
    memcpy(prev_hash, h, 32);
    be64(seqk, seq);
    MDB_val k = {8, seqk}, v = {2 + l + cl, entry};
    CK(mdb_put(txn, db_entries, &k, &v, MDB_APPEND));
    uint64_t idx = stored_hash_index(seq);
    uint8_t ik[8];
    be64(ik, idx++); k.mv_data = ik; v.mv_size = 32; v.mv_data = h;
    CK(mdb_put(txn, db_tree, &k, &v, MDB_APPEND));
    int level = 0;
    for (uint64_t n = seq; n & 1; n >>= 1, level++) {
        uint8_t one = 1;
        crypto_hash_sha256_init(&st); crypto_hash_sha256_update(&st, &one, 1);
        crypto_hash_sha256_update(&st, tree_edge[level], 32); crypto_hash_sha256_update(&st, h, 32);
        crypto_hash_sha256_final(&st, h);
        be64(ik, idx++); v.mv_data = h;
        CK(mdb_put(txn, db_tree, &k, &v, MDB_APPEND));
    }
    memcpy(tree_edge[level], h, 32);
    /* indexes */
    MDB_val mk = {32, mtag}, mv = {8, seqk};
    CK(mdb_put(txn, db_matters, &mk, &mv, MDB_APPENDDUP));
    if (has_source) { MDB_val sk = {32, stag}, sv = {8, seqk}; CK(mdb_put(txn, db_sources, &sk, &sv, MDB_NOOVERWRITE)); }
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: raw_c FILE.jsonl DIR\n"); return 64; }
    if (sodium_init() < 0) die("sodium_init", 0);
    int fd = open(argv[1], O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb)) { perror(argv[1]); return 66; }
    const char *data = sb.st_size ? mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : "";
    if (data == MAP_FAILED) { perror("mmap"); return 74; }
    const char *end = data + sb.st_size;
    if (mkdir(argv[2], 0700)) { perror(argv[2]); return 73; }
    MDB_env *env;
    CK(mdb_env_create(&env));
    CK(mdb_env_set_maxdbs(env, 16));
    CK(mdb_env_set_mapsize(env, ((size_t)1 << 30) + (size_t)sb.st_size * 3));  /* the ledger is ~1.9x its input */
    CK(mdb_env_open(env, argv[2], MDB_NOTLS | MDB_NORDAHEAD, 0600));
    randombytes_buf(ledger_id, 16); randombytes_buf(index_key, 32);
    MDB_txn *txn;
    CK(mdb_txn_begin(env, NULL, 0, &txn));
    CK(mdb_dbi_open(txn, "entries", MDB_CREATE, &db_entries));
    CK(mdb_dbi_open(txn, "tree", MDB_CREATE, &db_tree));
    CK(mdb_dbi_open(txn, "matters", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED, &db_matters));
    CK(mdb_dbi_open(txn, "sources", MDB_CREATE, &db_sources));
    CK(mdb_dbi_open(txn, "keys", MDB_CREATE, &db_keys));
    CK(mdb_txn_commit(txn));
    /* records are read and validated whole-file first, as the ledger does (nothing is written if one is bad) */
    /* (the parsed records are kept between the passes, as the ledger keeps its validated records) */
    size_t cap = 1024, count = 0;
    Record *records = malloc(cap * sizeof *records);
    for (const char *p = data; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
        if (le > p) {
            if (count == cap) { cap *= 2; records = realloc(records, cap * sizeof *records); }
            if (!parse_record(p, le, &records[count])) { fprintf(stderr, "raw_c: line %zu is invalid\n", count + 1); return 65; }
            count++;
        }
        p = le + 1;
    }
    uint8_t *random = malloc((size_t)BATCH * 40);
    uint64_t seq = 0;
    for (size_t start = 0, batch = 0; start < count; start += BATCH, batch++) {
        size_t n = count - start < BATCH ? count - start : BATCH;
        randombytes_buf(random, n * 40);
        struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts);
        int64_t now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
        CK(mdb_txn_begin(env, NULL, 0, &txn));
        for (size_t i = 0; i < n; i++)
            seq += (uint64_t)append_record(txn, &records[start + i], seq, batch, random + i * 40, now);
        CK(mdb_txn_commit(txn));  /* durable: fsync */
        sodium_memzero(random, n * 40);
    }
    mdb_env_close(env);
    printf("raw_c: %llu records\n", (unsigned long long)seq);
    return 0;
}
