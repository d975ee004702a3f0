/*
 * ice.c: the ICE-lite server (RFC 8445 2.5 and 8.2, RFC 7675), sans-IO.
 *
 * Owns: the session table and its three indexes, all fixed arrays made
 * once by rooms_ice_table_create():
 *
 *   - by local ufrag: a chained hash table, for a check's USERNAME;
 *   - by selected address: a chained hash table, for DTLS and SRTP;
 *   - by deadline: a doubly linked list in deadline order.  Every deadline
 *     is "an event + 30 s" with a clock that does not go back, so a
 *     refreshed session simply moves to the tail, and the head is always
 *     the next to expire: poll is O(1) with no heap.
 *
 * Chains and lists link slot numbers (int32_t, -1 for none), not
 * pointers, so the table is one flat array.
 *
 * Must never: answer or change state for a datagram that has not passed
 * MESSAGE-INTEGRITY under a live session's pwd; do more than a hash, a
 * CRC and one HMAC for an unauthenticated datagram; allocate, read a
 * clock or do I/O after rooms_ice_table_create().
 *
 * The hash tables are keyed with SipHash-2-4 under a random key, so that
 * nobody can choose addresses or ufrags that pile into one chain.
 * Randomness: the SipHash key is drawn here from OpenSSL (a secret that
 * must not come from a replayable source; bucket placement is not
 * observable); credentials come from the caller's bytes
 * (rooms_ice_credentials_from()), or from OpenSSL for tests and tools.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h, include dtls.h, include srtp.h, include rtp.h, include rtcp.h, include sdp.h, call json_, call clock_gettime, call time, call gettimeofday, call rand, call getrandom
 */

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ice.h"


#define ROOMS_ICE_NONE  (-1)

/* slot in the low 16 bits of an id, generation (never 0) in the high */
#define ROOMS_ICE_SLOT_BITS  16
#define ROOMS_ICE_SLOT_MASK  0xffffu


typedef struct {
    uint32_t            id;             /* 0: the slot is free */
    uint16_t            gen;
    uint8_t             state;          /* rooms_ice_state_e */
    uint8_t             has_selected;

    void               *data;

    uint64_t            deadline_ms;
    uint64_t            selected_seen_ms;   /* last valid check from it */
    rooms_stun_addr_t   selected;

    int32_t             next_ufrag;     /* chain, or the free list */
    int32_t             next_addr;
    int32_t             timer_prev;
    int32_t             timer_next;
    uint8_t             in_timer;

    uint8_t             local_ufrag_len;
    uint8_t             local_pwd_len;
    uint16_t            remote_ufrag_len;
    char                local_ufrag[ROOMS_ICE_LOCAL_UFRAG_MAX];
    char                local_pwd[ROOMS_ICE_LOCAL_PWD_MAX];
    char                remote_ufrag[ROOMS_ICE_UFRAG_MAX];
} rooms_ice_session_t;


struct rooms_ice_table_s {
    rooms_ice_session_t  *sessions;
    unsigned              max;
    unsigned              count;
    int32_t               free_head;

    int32_t              *ufrag_buckets;
    int32_t              *addr_buckets;
    uint32_t              mask;         /* buckets - 1, a power of two */

    int32_t               timer_head;
    int32_t               timer_tail;

    uint64_t              hash_key[2];
    rooms_stun_mac_t     *mac;

    rooms_ice_stats_t     stats;
};


static const char  rooms_ice_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


/* SipHash-2-4 (Aumasson and Bernstein), 64-bit output. */

#define ROOMS_ICE_ROTL(x, b)  (uint64_t) (((x) << (b)) | ((x) >> (64 - (b))))

#define ROOMS_ICE_SIPROUND                                                  \
    do {                                                                    \
        v0 += v1; v1 = ROOMS_ICE_ROTL(v1, 13); v1 ^= v0;                    \
        v0 = ROOMS_ICE_ROTL(v0, 32);                                        \
        v2 += v3; v3 = ROOMS_ICE_ROTL(v3, 16); v3 ^= v2;                    \
        v0 += v3; v3 = ROOMS_ICE_ROTL(v3, 21); v3 ^= v0;                    \
        v2 += v1; v1 = ROOMS_ICE_ROTL(v1, 17); v1 ^= v2;                    \
        v2 = ROOMS_ICE_ROTL(v2, 32);                                        \
    } while (0)


static uint64_t
rooms_ice_le64(const uint8_t *p, size_t n)
{
    size_t    i;
    uint64_t  v;

    v = 0;

    for (i = 0; i < n; i++) {
        v |= (uint64_t) p[i] << (8 * i);
    }

    return v;
}


static uint64_t
rooms_ice_siphash(const uint64_t key[2], const uint8_t *in, size_t len)
{
    size_t    i, tail;
    uint64_t  v0, v1, v2, v3, m;

    v0 = 0x736f6d6570736575ULL ^ key[0];
    v1 = 0x646f72616e646f6dULL ^ key[1];
    v2 = 0x6c7967656e657261ULL ^ key[0];
    v3 = 0x7465646279746573ULL ^ key[1];

    for (i = 0; i + 8 <= len; i += 8) {
        m = rooms_ice_le64(in + i, 8);
        v3 ^= m;
        ROOMS_ICE_SIPROUND;
        ROOMS_ICE_SIPROUND;
        v0 ^= m;
    }

    tail = len - i;
    m = rooms_ice_le64(in + i, tail) | (uint64_t) (len & 0xff) << 56;

    v3 ^= m;
    ROOMS_ICE_SIPROUND;
    ROOMS_ICE_SIPROUND;
    v0 ^= m;

    v2 ^= 0xff;
    ROOMS_ICE_SIPROUND;
    ROOMS_ICE_SIPROUND;
    ROOMS_ICE_SIPROUND;
    ROOMS_ICE_SIPROUND;

    return v0 ^ v1 ^ v2 ^ v3;
}


static uint32_t
rooms_ice_hash_ufrag(const rooms_ice_table_t *t, const uint8_t *s,
    size_t len)
{
    return (uint32_t) rooms_ice_siphash(t->hash_key, s, len) & t->mask;
}


static uint32_t
rooms_ice_hash_addr(const rooms_ice_table_t *t, const rooms_stun_addr_t *a)
{
    uint8_t  key[21];

    /* only the bytes that make the address: the rest is zero anyway */
    key[0] = a->family;
    key[1] = (uint8_t) (a->port >> 8);
    key[2] = (uint8_t) a->port;
    memcpy(key + 3, a->ip, 16);
    key[19] = (uint8_t) (a->via >> 8);
    key[20] = (uint8_t) a->via;

    return (uint32_t) rooms_ice_siphash(t->hash_key, key, sizeof(key))
           & t->mask;
}


/* 1 when s[0..len) is ice-chars (ALPHA / DIGIT / "+" / "/") */
static int
rooms_ice_chars_ok(const char *s, size_t len)
{
    size_t  i;
    char    c;

    for (i = 0; i < len; i++) {
        c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '+' || c == '/'))
        {
            return 0;
        }
    }

    return 1;
}


/* strlen bounded by max + 1, so a huge string costs no more than that */
static size_t
rooms_ice_strlen(const char *s, size_t max)
{
    size_t  n;

    for (n = 0; n <= max && s[n] != '\0'; n++) {
        /* void */
    }

    return n;
}


static int
rooms_ice_credential_ok(const char *s, size_t min, size_t max)
{
    size_t  n;

    n = rooms_ice_strlen(s, max);

    return n >= min && n <= max && rooms_ice_chars_ok(s, n);
}


static rooms_ice_session_t *
rooms_ice_by_id(const rooms_ice_table_t *t, uint32_t id)
{
    uint32_t              slot;
    rooms_ice_session_t  *s;

    slot = id & ROOMS_ICE_SLOT_MASK;

    if (id == 0 || slot >= t->max) {
        return NULL;
    }

    s = &t->sessions[slot];

    return s->id == id ? s : NULL;
}


static rooms_ice_session_t *
rooms_ice_by_ufrag(const rooms_ice_table_t *t, const uint8_t *ufrag,
    size_t len)
{
    int32_t               i;
    rooms_ice_session_t  *s;

    if (len == 0 || len > ROOMS_ICE_LOCAL_UFRAG_MAX) {
        return NULL;
    }

    for (i = t->ufrag_buckets[rooms_ice_hash_ufrag(t, ufrag, len)];
         i != ROOMS_ICE_NONE;
         i = s->next_ufrag)
    {
        s = &t->sessions[i];

        if (s->local_ufrag_len == len
            && memcmp(s->local_ufrag, ufrag, len) == 0)
        {
            return s;
        }
    }

    return NULL;
}


static rooms_ice_session_t *
rooms_ice_by_addr(const rooms_ice_table_t *t, const rooms_stun_addr_t *addr)
{
    int32_t               i;
    rooms_ice_session_t  *s;

    for (i = t->addr_buckets[rooms_ice_hash_addr(t, addr)];
         i != ROOMS_ICE_NONE;
         i = s->next_addr)
    {
        s = &t->sessions[i];

        if (rooms_stun_addr_equal(&s->selected, addr)) {
            return s;
        }
    }

    return NULL;
}


static int32_t
rooms_ice_slot(const rooms_ice_table_t *t, const rooms_ice_session_t *s)
{
    return (int32_t) (s - t->sessions);
}


/* Removes s from a ufrag chain, or from an address chain when by_addr. */
static void
rooms_ice_chain_unlink(rooms_ice_table_t *t, int32_t *bucket,
    rooms_ice_session_t *s, int by_addr)
{
    int32_t   me, *p;

    me = rooms_ice_slot(t, s);

    for (p = bucket; *p != ROOMS_ICE_NONE;
         p = by_addr ? &t->sessions[*p].next_addr
                     : &t->sessions[*p].next_ufrag)
    {
        if (*p == me) {
            *p = by_addr ? s->next_addr : s->next_ufrag;
            break;
        }
    }

    if (by_addr) {
        s->next_addr = ROOMS_ICE_NONE;

    } else {
        s->next_ufrag = ROOMS_ICE_NONE;
    }
}


static void
rooms_ice_addr_unlink(rooms_ice_table_t *t, rooms_ice_session_t *s)
{
    if (!s->has_selected) {
        return;
    }

    rooms_ice_chain_unlink(t, &t->addr_buckets[rooms_ice_hash_addr(t,
                                                          &s->selected)],
                           s, 1);
    s->has_selected = 0;
}


static void
rooms_ice_timer_unlink(rooms_ice_table_t *t, rooms_ice_session_t *s)
{
    if (!s->in_timer) {
        return;
    }

    if (s->timer_prev != ROOMS_ICE_NONE) {
        t->sessions[s->timer_prev].timer_next = s->timer_next;

    } else {
        t->timer_head = s->timer_next;
    }

    if (s->timer_next != ROOMS_ICE_NONE) {
        t->sessions[s->timer_next].timer_prev = s->timer_prev;

    } else {
        t->timer_tail = s->timer_prev;
    }

    s->timer_prev = ROOMS_ICE_NONE;
    s->timer_next = ROOMS_ICE_NONE;
    s->in_timer = 0;
}


/* (Re)arms s to expire at deadline, at the tail of the ordered list. */
static void
rooms_ice_timer_set(rooms_ice_table_t *t, rooms_ice_session_t *s,
    uint64_t deadline)
{
    int32_t  me;

    rooms_ice_timer_unlink(t, s);

    /* a clock that stepped back must not break the list's order */
    if (t->timer_tail != ROOMS_ICE_NONE
        && t->sessions[t->timer_tail].deadline_ms > deadline)
    {
        deadline = t->sessions[t->timer_tail].deadline_ms;
    }

    me = rooms_ice_slot(t, s);

    s->deadline_ms = deadline;
    s->timer_prev = t->timer_tail;
    s->timer_next = ROOMS_ICE_NONE;
    s->in_timer = 1;

    if (t->timer_tail != ROOMS_ICE_NONE) {
        t->sessions[t->timer_tail].timer_next = me;

    } else {
        t->timer_head = me;
    }

    t->timer_tail = me;
}


rooms_ice_table_t *
rooms_ice_table_create(unsigned max_sessions)
{
    unsigned            i, nbuckets;
    uint8_t             key[16];
    rooms_ice_table_t  *t;

    if (max_sessions == 0 || max_sessions > ROOMS_ICE_MAX_SESSIONS) {
        return NULL;
    }

    t = OPENSSL_zalloc(sizeof(rooms_ice_table_t));
    if (t == NULL) {
        return NULL;
    }

    /* twice as many buckets as sessions: chains average under one */
    for (nbuckets = 1; nbuckets < 2 * max_sessions; nbuckets <<= 1) {
        /* void */
    }

    t->max = max_sessions;
    t->mask = nbuckets - 1;
    t->sessions = OPENSSL_zalloc(max_sessions * sizeof(rooms_ice_session_t));
    t->ufrag_buckets = OPENSSL_malloc(nbuckets * sizeof(int32_t));
    t->addr_buckets = OPENSSL_malloc(nbuckets * sizeof(int32_t));
    t->mac = rooms_stun_mac_create();

    if (t->sessions == NULL || t->ufrag_buckets == NULL
        || t->addr_buckets == NULL || t->mac == NULL
        || RAND_bytes(key, sizeof(key)) != 1)
    {
        rooms_ice_table_destroy(t);
        return NULL;
    }

    t->hash_key[0] = rooms_ice_le64(key, 8);
    t->hash_key[1] = rooms_ice_le64(key + 8, 8);
    OPENSSL_cleanse(key, sizeof(key));

    for (i = 0; i < nbuckets; i++) {
        t->ufrag_buckets[i] = ROOMS_ICE_NONE;
        t->addr_buckets[i] = ROOMS_ICE_NONE;
    }

    for (i = 0; i < max_sessions; i++) {
        t->sessions[i].next_ufrag = i + 1 < max_sessions ? (int32_t) i + 1
                                                         : ROOMS_ICE_NONE;
        t->sessions[i].next_addr = ROOMS_ICE_NONE;
        t->sessions[i].timer_prev = ROOMS_ICE_NONE;
        t->sessions[i].timer_next = ROOMS_ICE_NONE;
    }

    t->free_head = 0;
    t->timer_head = ROOMS_ICE_NONE;
    t->timer_tail = ROOMS_ICE_NONE;

    return t;
}


void
rooms_ice_table_destroy(rooms_ice_table_t *t)
{
    if (t == NULL) {
        return;
    }

    if (t->sessions != NULL) {
        OPENSSL_clear_free(t->sessions,
                           t->max * sizeof(rooms_ice_session_t));
    }

    OPENSSL_free(t->ufrag_buckets);
    OPENSSL_free(t->addr_buckets);
    rooms_stun_mac_destroy(t->mac);
    OPENSSL_clear_free(t, sizeof(rooms_ice_table_t));
}


int
rooms_ice_credentials_from(const uint8_t rnd[ROOMS_ICE_GEN_RANDOM_LEN],
    char ufrag[ROOMS_ICE_GEN_UFRAG_LEN + 1],
    char pwd[ROOMS_ICE_GEN_PWD_LEN + 1])
{
    size_t  i;

    /* one character per 6 random bits: 132 bits and 192 bits */
    for (i = 0; i < ROOMS_ICE_GEN_UFRAG_LEN; i++) {
        ufrag[i] = rooms_ice_b64[rnd[i] & 63];
    }

    for (i = 0; i < ROOMS_ICE_GEN_PWD_LEN; i++) {
        pwd[i] = rooms_ice_b64[rnd[ROOMS_ICE_GEN_UFRAG_LEN + i] & 63];
    }

    ufrag[ROOMS_ICE_GEN_UFRAG_LEN] = '\0';
    pwd[ROOMS_ICE_GEN_PWD_LEN] = '\0';

    return 0;
}


int
rooms_ice_credentials_new(char ufrag[ROOMS_ICE_GEN_UFRAG_LEN + 1],
    char pwd[ROOMS_ICE_GEN_PWD_LEN + 1])
{
    int       rc;
    uint8_t   rnd[ROOMS_ICE_GEN_RANDOM_LEN];

    if (RAND_bytes(rnd, (int) sizeof(rnd)) != 1) {
        return -1;
    }

    rc = rooms_ice_credentials_from(rnd, ufrag, pwd);
    OPENSSL_cleanse(rnd, sizeof(rnd));

    return rc;
}


uint32_t
rooms_ice_add(rooms_ice_table_t *t, uint64_t now_ms, const char *local_ufrag,
    const char *local_pwd, const char *remote_ufrag, void *data)
{
    size_t                ulen, plen, rlen;
    int32_t               slot;
    uint32_t              h;
    rooms_ice_session_t  *s;

    if (remote_ufrag == NULL) {
        remote_ufrag = "";
    }

    ulen = rooms_ice_strlen(local_ufrag, ROOMS_ICE_LOCAL_UFRAG_MAX);
    plen = rooms_ice_strlen(local_pwd, ROOMS_ICE_LOCAL_PWD_MAX);
    rlen = rooms_ice_strlen(remote_ufrag, ROOMS_ICE_UFRAG_MAX);

    if (!rooms_ice_credential_ok(local_ufrag, ROOMS_ICE_UFRAG_MIN,
                                 ROOMS_ICE_LOCAL_UFRAG_MAX)
        || !rooms_ice_credential_ok(local_pwd, ROOMS_ICE_PWD_MIN,
                                    ROOMS_ICE_LOCAL_PWD_MAX)
        || (rlen != 0
            && !rooms_ice_credential_ok(remote_ufrag, ROOMS_ICE_UFRAG_MIN,
                                        ROOMS_ICE_UFRAG_MAX))
        || t->free_head == ROOMS_ICE_NONE
        || rooms_ice_by_ufrag(t, (const uint8_t *) local_ufrag, ulen) != NULL)
    {
        t->stats.add_refused++;
        return 0;
    }

    slot = t->free_head;
    s = &t->sessions[slot];
    t->free_head = s->next_ufrag;

    s->gen = (uint16_t) (s->gen + 1);
    if (s->gen == 0) {
        s->gen = 1;
    }

    s->id = (uint32_t) s->gen << ROOMS_ICE_SLOT_BITS | (uint32_t) slot;
    s->state = ROOMS_ICE_NEW;
    s->has_selected = 0;
    s->data = data;
    s->selected_seen_ms = 0;
    memset(&s->selected, 0, sizeof(s->selected));

    s->local_ufrag_len = (uint8_t) ulen;
    s->local_pwd_len = (uint8_t) plen;
    s->remote_ufrag_len = (uint16_t) rlen;
    memcpy(s->local_ufrag, local_ufrag, ulen);
    memcpy(s->local_pwd, local_pwd, plen);
    memcpy(s->remote_ufrag, remote_ufrag, rlen);

    h = rooms_ice_hash_ufrag(t, (const uint8_t *) local_ufrag, ulen);
    s->next_ufrag = t->ufrag_buckets[h];
    t->ufrag_buckets[h] = slot;

    s->next_addr = ROOMS_ICE_NONE;
    s->in_timer = 0;
    rooms_ice_timer_set(t, s, now_ms + ROOMS_ICE_CONNECT_MS);

    t->count++;

    return s->id;
}


int
rooms_ice_set_remote_ufrag(rooms_ice_table_t *t, uint32_t id,
    const char *remote_ufrag)
{
    size_t                rlen;
    rooms_ice_session_t  *s;

    s = rooms_ice_by_id(t, id);

    if (s == NULL || remote_ufrag == NULL) {
        return -1;
    }

    rlen = rooms_ice_strlen(remote_ufrag, ROOMS_ICE_UFRAG_MAX);

    if (rlen != 0
        && !rooms_ice_credential_ok(remote_ufrag, ROOMS_ICE_UFRAG_MIN,
                                    ROOMS_ICE_UFRAG_MAX))
    {
        return -1;
    }

    memcpy(s->remote_ufrag, remote_ufrag, rlen);
    s->remote_ufrag_len = (uint16_t) rlen;

    return 0;
}


int
rooms_ice_remove(rooms_ice_table_t *t, uint32_t id)
{
    int32_t               slot;
    uint16_t              gen;
    rooms_ice_session_t  *s;

    s = rooms_ice_by_id(t, id);
    if (s == NULL) {
        return -1;
    }

    slot = rooms_ice_slot(t, s);

    rooms_ice_chain_unlink(t, &t->ufrag_buckets[rooms_ice_hash_ufrag(t,
                                      (const uint8_t *) s->local_ufrag,
                                      s->local_ufrag_len)],
                           s, 0);
    rooms_ice_addr_unlink(t, s);
    rooms_ice_timer_unlink(t, s);

    /* the pwd is a secret: it does not outlive the session */
    gen = s->gen;
    OPENSSL_cleanse(s, sizeof(*s));

    s->gen = gen;
    s->next_addr = ROOMS_ICE_NONE;
    s->timer_prev = ROOMS_ICE_NONE;
    s->timer_next = ROOMS_ICE_NONE;
    s->next_ufrag = t->free_head;
    t->free_head = slot;

    t->count--;

    return 0;
}


/* Makes addr the selected address of s, taking it from any other. */
static void
rooms_ice_select(rooms_ice_table_t *t, rooms_ice_session_t *s,
    const rooms_stun_addr_t *addr, rooms_ice_event_t *ev)
{
    uint32_t              h;
    rooms_ice_session_t  *other;

    /*
     * One address, one session.  Two can claim it when a peer's port is
     * reused (a page reload behind the same NAT mapping): the session
     * that just authenticated from it is the live one.
     */
    other = rooms_ice_by_addr(t, addr);

    if (other != NULL && other != s) {
        rooms_ice_addr_unlink(t, other);
        t->stats.addr_taken++;
    }

    rooms_ice_addr_unlink(t, s);

    s->selected = *addr;
    s->has_selected = 1;

    h = rooms_ice_hash_addr(t, addr);
    s->next_addr = t->addr_buckets[h];
    t->addr_buckets[h] = rooms_ice_slot(t, s);

    ev->type = ROOMS_ICE_EV_SELECTED;
    ev->addr = *addr;
    t->stats.selected++;
}


/* The state change for an authenticated, answered check. */
static void
rooms_ice_checked(rooms_ice_table_t *t, rooms_ice_session_t *s,
    uint64_t now_ms, const rooms_stun_addr_t *src, int use_candidate,
    rooms_ice_event_t *ev)
{
    int  same;

    same = s->has_selected && rooms_stun_addr_equal(&s->selected, src);

    if (!same
        && (!s->has_selected || use_candidate
            || now_ms >= s->selected_seen_ms + ROOMS_ICE_REBIND_MS))
    {
        rooms_ice_select(t, s, src, ev);
    }

    if (use_candidate) {
        s->state = ROOMS_ICE_NOMINATED;

    } else if (s->state == ROOMS_ICE_NEW) {
        s->state = ROOMS_ICE_CHECKED;
    }

    /* consent is for the selected pair: a check from elsewhere is not it */
    if (rooms_stun_addr_equal(&s->selected, src)) {
        s->selected_seen_ms = now_ms;
        rooms_ice_timer_set(t, s, now_ms + ROOMS_ICE_CONSENT_MS);
    }
}


/*
 * The session a check authenticates as: its USERNAME names a live
 * session by our ufrag (and theirs, once known), and its
 * MESSAGE-INTEGRITY verifies under that session's pwd.  NULL, with the
 * drop counted, otherwise.
 */
static rooms_ice_session_t *
rooms_ice_authenticate(rooms_ice_table_t *t, const rooms_stun_msg_t *msg)
{
    size_t                n, ulen;
    const uint8_t        *colon, *remote;
    rooms_ice_session_t  *s;

    /* USERNAME is "<our ufrag>:<their ufrag>"; ':' is not an ice-char */
    colon = memchr(msg->username, ':', msg->username_len);

    if (colon == NULL) {
        t->stats.drop_unknown_ufrag++;
        return NULL;
    }

    ulen = (size_t) (colon - msg->username);
    remote = colon + 1;
    n = msg->username_len - ulen - 1;

    s = rooms_ice_by_ufrag(t, msg->username, ulen);

    if (s == NULL) {
        t->stats.drop_unknown_ufrag++;
        return NULL;
    }

    if (n == 0
        || (s->remote_ufrag_len != 0
            && (n != s->remote_ufrag_len
                || memcmp(remote, s->remote_ufrag, n) != 0)))
    {
        t->stats.drop_bad_remote_ufrag++;
        return NULL;
    }

    if (s->state == ROOMS_ICE_EXPIRED) {
        t->stats.drop_expired++;
        return NULL;
    }

    if (!rooms_stun_check_integrity(msg, t->mac,
                                    (const uint8_t *) s->local_pwd,
                                    s->local_pwd_len))
    {
        t->stats.drop_bad_integrity++;
        return NULL;
    }

    return s;
}


rooms_ice_action_e
rooms_ice_input(rooms_ice_table_t *t, uint64_t now_ms,
    const rooms_stun_addr_t *src, const uint8_t *buf, size_t len,
    uint8_t *out_buf, size_t *out_len, rooms_ice_event_t *ev)
{
    int                   rc;
    size_t                cap, n;
    unsigned              code;
    rooms_stun_msg_t      msg;
    rooms_ice_session_t  *s;

    cap = *out_len;
    *out_len = 0;
    memset(ev, 0, sizeof(*ev));

    t->stats.rx++;

    if (!rooms_stun_is_stun(buf, len)) {
        t->stats.drop_not_stun++;
        return ROOMS_ICE_DROP;
    }

    if ((src->family != 4 && src->family != 6)
        || rooms_stun_parse(&msg, buf, len) != ROOMS_STUN_OK)
    {
        t->stats.drop_malformed++;
        return ROOMS_ICE_DROP;
    }

    /* a lite agent sends no requests, so it expects no responses either */
    if (msg.type != ROOMS_STUN_BINDING_REQUEST) {
        t->stats.drop_not_request++;
        return ROOMS_ICE_DROP;
    }

    if (!(msg.flags & ROOMS_STUN_HAS_USERNAME)) {
        t->stats.drop_no_username++;
        return ROOMS_ICE_DROP;
    }

    if (!(msg.flags & ROOMS_STUN_HAS_INTEGRITY)) {
        t->stats.drop_no_integrity++;
        return ROOMS_ICE_DROP;
    }

    /* the CRC is cheaper than the HMAC: refuse line noise with it first */
    if ((msg.flags & ROOMS_STUN_HAS_FINGERPRINT)
        && !rooms_stun_check_fingerprint(&msg))
    {
        t->stats.drop_bad_fingerprint++;
        return ROOMS_ICE_DROP;
    }

    s = rooms_ice_authenticate(t, &msg);

    if (s == NULL) {
        return ROOMS_ICE_DROP;
    }

    /* authenticated: the peer knows the pwd, and may be answered */

    ev->id = s->id;
    ev->data = s->data;

    code = 0;

    if (msg.nunknown != 0) {
        code = 420;

    } else if (!(msg.flags & ROOMS_STUN_HAS_PRIORITY)) {
        code = 400;

    } else if (msg.flags & ROOMS_STUN_HAS_ICE_CONTROLLED) {
        code = 487;
    }

    if (code != 0) {
        rc = rooms_stun_encode_error(out_buf, cap, &n, msg.tid, code,
                                     msg.unknown,
                                     msg.nunknown < ROOMS_STUN_MAX_UNKNOWN
                                     ? msg.nunknown : ROOMS_STUN_MAX_UNKNOWN,
                                     t->mac, (const uint8_t *) s->local_pwd,
                                     s->local_pwd_len);
    } else {
        rc = rooms_stun_encode_success(out_buf, cap, &n, msg.tid, src,
                                       t->mac,
                                       (const uint8_t *) s->local_pwd,
                                       s->local_pwd_len);
    }

    if (rc != 0) {
        t->stats.drop_no_room++;
        return ROOMS_ICE_DROP;
    }

    /*
     * Never send more than was received, even to an authenticated peer.
     * With a 22-character local ufrag, a check that earns a success
     * (USERNAME, PRIORITY, MESSAGE-INTEGRITY) is at least 80 bytes and
     * the largest success response (IPv6) is 76, so this only bites on
     * short ufrags or on error replies to minimal requests.
     */
    if (n > len) {
        t->stats.drop_amplification++;
        return ROOMS_ICE_DROP;
    }

    if (code != 0) {
        t->stats.error_replies++;

    } else {
        rooms_ice_checked(t, s, now_ms, src,
                          (msg.flags & ROOMS_STUN_HAS_USE_CANDIDATE) != 0, ev);
        t->stats.replies++;
    }

    *out_len = n;

    return ROOMS_ICE_REPLY;
}


uint32_t
rooms_ice_lookup_addr(const rooms_ice_table_t *t,
    const rooms_stun_addr_t *addr, void **data)
{
    rooms_ice_session_t  *s;

    s = rooms_ice_by_addr(t, addr);

    if (s == NULL) {
        return 0;
    }

    if (data != NULL) {
        *data = s->data;
    }

    return s->id;
}


uint64_t
rooms_ice_poll(rooms_ice_table_t *t, uint64_t now_ms, rooms_ice_event_t *ev)
{
    rooms_ice_session_t  *s;

    memset(ev, 0, sizeof(*ev));

    if (t->timer_head == ROOMS_ICE_NONE) {
        return ROOMS_ICE_NEVER;
    }

    s = &t->sessions[t->timer_head];

    if (s->deadline_ms > now_ms) {
        return s->deadline_ms;
    }

    rooms_ice_timer_unlink(t, s);

    ev->type = ROOMS_ICE_EV_TIMEOUT;
    ev->reason = s->state == ROOMS_ICE_NEW ? ROOMS_ICE_TIMEOUT_NEVER_CONNECTED
                                           : ROOMS_ICE_TIMEOUT_CONSENT;
    ev->id = s->id;
    ev->data = s->data;

    if (s->has_selected) {
        ev->addr = s->selected;
    }

    /* RFC 7675 5.1: consent lost, no more media to that address */
    rooms_ice_addr_unlink(t, s);
    s->state = ROOMS_ICE_EXPIRED;

    t->stats.timeouts++;

    return now_ms;
}


int
rooms_ice_state(const rooms_ice_table_t *t, uint32_t id)
{
    rooms_ice_session_t  *s;

    s = rooms_ice_by_id(t, id);

    return s ? s->state : -1;
}


int
rooms_ice_selected(const rooms_ice_table_t *t, uint32_t id,
    rooms_stun_addr_t *addr)
{
    rooms_ice_session_t  *s;

    s = rooms_ice_by_id(t, id);

    if (s == NULL || !s->has_selected) {
        return -1;
    }

    *addr = s->selected;

    return 0;
}


unsigned
rooms_ice_count(const rooms_ice_table_t *t)
{
    return t->count;
}


const rooms_ice_stats_t *
rooms_ice_stats(const rooms_ice_table_t *t)
{
    return &t->stats;
}
