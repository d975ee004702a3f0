
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_identity.c: who is asking.
 *
 * Owns: the one answer per request to "who is this" (ngx_rooms_identity()):
 * the values of the location's rooms_user, rooms_user_name and
 * rooms_user_groups, or what the rooms_policy identify() hook returns
 * when there is one; the checks every id, name and group passes whatever
 * its source; and the $rooms_user_* variables.  Without configuration
 * everyone is anonymous, as before, and a browser is known by its guest
 * token alone.
 * Must never authenticate anyone itself (the admin's sign-in does, before
 * nginx hands the request to "rooms"), never read a header or cookie of
 * its own accord (only what the admin's directives or policy name), and
 * never keep anything past its request.
 * May not: call rooms_store_, call json_, include jansson.h, include rooms_ring.h, include rooms_ws.h, call ngx_rooms_dir_, call ngx_rooms_control_, call ngx_rooms_media_, call ngx_rooms_ws_, call ngx_rooms_signal_, call ngx_rooms_api_
 */


#include "ngx_rooms.h"
#include "ngx_rooms_identity.h"
#include "ngx_rooms_policy.h"


static ngx_int_t ngx_rooms_identity_policy(ngx_http_request_t *r,
    ngx_rooms_user_t **u);
static ngx_int_t ngx_rooms_identity_conf(ngx_http_request_t *r,
    ngx_rooms_user_t *u);
static ngx_int_t ngx_rooms_identity_set(ngx_http_request_t *r,
    ngx_rooms_user_t *u, ngx_str_t *id, ngx_str_t *name, ngx_str_t *groups,
    ngx_uint_t ngroups, const char *source);
static ngx_int_t ngx_rooms_identity_id_ok(ngx_str_t *id);
static ngx_int_t ngx_rooms_identity_name_ok(ngx_str_t *name);
static ngx_int_t ngx_rooms_identity_group_ok(ngx_str_t *group);
static void ngx_rooms_identity_cached(void *data);
static ngx_int_t ngx_rooms_identity_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


#define NGX_ROOMS_IDENTITY_VAR_ID      0
#define NGX_ROOMS_IDENTITY_VAR_NAME    1
#define NGX_ROOMS_IDENTITY_VAR_GROUPS  2


static ngx_http_variable_t  ngx_rooms_identity_vars[] = {

    { ngx_string("rooms_user_id"), NULL, ngx_rooms_identity_variable,
      NGX_ROOMS_IDENTITY_VAR_ID, 0, 0 },

    { ngx_string("rooms_user_name"), NULL, ngx_rooms_identity_variable,
      NGX_ROOMS_IDENTITY_VAR_NAME, 0, 0 },

    { ngx_string("rooms_user_groups"), NULL, ngx_rooms_identity_variable,
      NGX_ROOMS_IDENTITY_VAR_GROUPS, 0, 0 },

      ngx_http_null_variable
};


/*
 * The answer is kept with the request as a pool cleanup whose handler is
 * ngx_rooms_identity_cached(): the module's request ctx slot already
 * holds the API's or the WebSocket's own record, and identity is asked
 * for from both.  The walk is over a request's few cleanups.
 */
ngx_rooms_user_t *
ngx_rooms_identity(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_rooms_user_t    *u;
    ngx_pool_cleanup_t  *cln;

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_rooms_identity_cached) {
            return cln->data;
        }
    }

    u = ngx_pcalloc(r->pool, sizeof(ngx_rooms_user_t));
    if (u == NULL) {
        return NULL;
    }

    if (ngx_rooms_identity_conf(r, u) != NGX_OK) {
        return NULL;
    }

    rc = ngx_rooms_identity_policy(r, &u);

    if (rc != NGX_OK && rc != NGX_DECLINED) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_rooms_identity_cached;
    cln->data = u;

    return u;
}


/* the mark of the cached answer: nothing to free, it is in r->pool */
static void
ngx_rooms_identity_cached(void *data)
{
}


/*
 * The rooms_policy identify() hook, when there is one, decides in place
 * of the directives, whose answer (*u) it is given as request.user: *u
 * becomes its answer.  NGX_DECLINED without the hook (*u stays).  A hook
 * that fails (logged by the policy) or names nobody leaves the request
 * anonymous.  NGX_ERROR only when memory runs out.
 */
static ngx_int_t
ngx_rooms_identity_policy(ngx_http_request_t *r, ngx_rooms_user_t **up)
{
    ngx_int_t          rc;
    ngx_str_t          id, name;
    ngx_array_t       *groups;
    ngx_rooms_user_t  *u;

    groups = ngx_array_create(r->pool, 4, sizeof(ngx_str_t));
    if (groups == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_rooms_policy_identify(r, *up, &id, &name, groups);

    if (rc == NGX_DECLINED) {
        return NGX_DECLINED;
    }

    u = ngx_pcalloc(r->pool, sizeof(ngx_rooms_user_t));
    if (u == NULL) {
        return NGX_ERROR;
    }

    *up = u;

    if (rc != NGX_OK || id.len == 0) {
        return NGX_OK;
    }

    if (groups->nelts > NGX_ROOMS_USER_GROUPS_MAX) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "identify: %ui groups past the first %d are ignored",
                      groups->nelts - NGX_ROOMS_USER_GROUPS_MAX,
                      NGX_ROOMS_USER_GROUPS_MAX);
        groups->nelts = NGX_ROOMS_USER_GROUPS_MAX;
    }

    return ngx_rooms_identity_set(r, u, &id, &name, groups->elts,
                                  groups->nelts, "identify");
}


/*
 * From the location's rooms_user (empty: anonymous), rooms_user_name
 * and rooms_user_groups.  Groups are separated by commas or spaces (a
 * group id holds neither), so both "staff,eng" and "staff eng" work.
 * NGX_ERROR only when memory runs out.
 */
static ngx_int_t
ngx_rooms_identity_conf(ngx_http_request_t *r, ngx_rooms_user_t *u)
{
    u_char                *p, *last, *start;
    ngx_str_t              id, name, text, groups[NGX_ROOMS_USER_GROUPS_MAX];
    ngx_uint_t             n, dropped;
    ngx_rooms_loc_conf_t  *rlcf;

    rlcf = ngx_http_get_module_loc_conf(r, ngx_rooms_module);

    if (rlcf->user == NULL) {
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, rlcf->user, &id) != NGX_OK) {
        return NGX_ERROR;
    }

    if (id.len == 0) {
        return NGX_OK;
    }

    ngx_str_null(&name);

    if (rlcf->user_name
        && ngx_http_complex_value(r, rlcf->user_name, &name) != NGX_OK)
    {
        return NGX_ERROR;
    }

    n = 0;
    dropped = 0;

    if (rlcf->user_groups) {
        if (ngx_http_complex_value(r, rlcf->user_groups, &text) != NGX_OK) {
            return NGX_ERROR;
        }

        p = text.data;
        last = text.data + text.len;

        while (p < last) {
            while (p < last && (*p == ',' || *p == ' ')) {
                p++;
            }

            start = p;

            while (p < last && *p != ',' && *p != ' ') {
                p++;
            }

            if (p == start) {
                break;
            }

            if (n == NGX_ROOMS_USER_GROUPS_MAX) {
                dropped++;
                continue;
            }

            groups[n].data = start;
            groups[n].len = p - start;
            n++;
        }

        if (dropped) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "rooms_user_groups: %ui groups past the first %d "
                          "are ignored", dropped, NGX_ROOMS_USER_GROUPS_MAX);
        }
    }

    return ngx_rooms_identity_set(r, u, &id, &name, groups, n, "rooms_user");
}


/*
 * Fills u from id, name and the groups when the id is usable; a name or
 * a group that is not is dropped alone.  Each refusal is logged (once per
 * kind, naming source, the directive or hook it came from): they are the
 * admin's sign-in or policy producing what cannot be used.  The strings
 * are copied into r->pool.  NGX_ERROR only when memory runs out.
 */
static ngx_int_t
ngx_rooms_identity_set(ngx_http_request_t *r, ngx_rooms_user_t *u,
    ngx_str_t *id, ngx_str_t *name, ngx_str_t *groups, ngx_uint_t ngroups,
    const char *source)
{
    ngx_str_t   *g, trimmed;
    ngx_uint_t   i, bad;

    if (ngx_rooms_identity_id_ok(id) != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "%s: a user id must be 1 to %d bytes of printable "
                      "ASCII without spaces, not %uz bytes of anything; the "
                      "request is anonymous", source, NGX_ROOMS_USER_ID_MAX,
                      id->len);
        return NGX_OK;
    }

    u->id.data = ngx_pstrdup(r->pool, id);
    if (u->id.data == NULL) {
        return NGX_ERROR;
    }

    u->id.len = id->len;

    trimmed = *name;

    while (trimmed.len && trimmed.data[0] == ' ') {
        trimmed.data++;
        trimmed.len--;
    }

    while (trimmed.len && trimmed.data[trimmed.len - 1] == ' ') {
        trimmed.len--;
    }

    if (trimmed.len) {
        if (ngx_rooms_identity_name_ok(&trimmed) == NGX_OK) {
            u->name.data = ngx_pstrdup(r->pool, &trimmed);
            if (u->name.data == NULL) {
                return NGX_ERROR;
            }

            u->name.len = trimmed.len;

        } else {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "%s: the name of user \"%V\" is not 1 to %d "
                          "characters of one line of printable UTF-8, and "
                          "is ignored", source, &u->id, ROOMS_NAME_MAX_CHARS);
        }
    }

    if (ngroups == 0) {
        return NGX_OK;
    }

    u->groups = ngx_array_create(r->pool, ngroups, sizeof(ngx_str_t));
    if (u->groups == NULL) {
        return NGX_ERROR;
    }

    bad = 0;

    for (i = 0; i < ngroups; i++) {
        if (ngx_rooms_identity_group_ok(&groups[i]) != NGX_OK) {
            bad++;
            continue;
        }

        g = ngx_array_push(u->groups);   /* preallocated: never fails */
        g->len = groups[i].len;
        g->data = ngx_pstrdup(r->pool, &groups[i]);

        if (g->data == NULL) {
            return NGX_ERROR;
        }
    }

    if (bad) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "%s: %ui groups of user \"%V\" are not 1 to %d of "
                      "A-Z a-z 0-9 . _ - and are ignored", source, bad,
                      &u->id, ROOMS_GROUP_ID_MAX);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_rooms_identity_id_ok(ngx_str_t *id)
{
    size_t  i;

    if (id->len == 0 || id->len > NGX_ROOMS_USER_ID_MAX) {
        return NGX_DECLINED;
    }

    for (i = 0; i < id->len; i++) {
        if (id->data[i] <= 0x20 || id->data[i] >= 0x7f) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* a display name, as a join's (valid UTF-8 first: headers are bytes) */
static ngx_int_t
ngx_rooms_identity_name_ok(ngx_str_t *name)
{
    u_char  *p, *last;
    size_t   chars;

    if (name->len > ROOMS_NAME_MAX_BYTES) {
        return NGX_DECLINED;
    }

    p = name->data;
    last = p + name->len;

    while (p < last) {
        if (*p < 0x80) {
            p++;
            continue;
        }

        /* nginx's decoder takes the bytes of one non-ASCII character */
        if (ngx_utf8_decode(&p, last - p) > 0x10ffff) {
            return NGX_DECLINED;
        }
    }

    if (rooms_text_check((char *) name->data, name->len, &chars) != 0
        || chars == 0 || chars > ROOMS_NAME_MAX_CHARS)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* a group id, as a room's audience "group:<id>" names it */
static ngx_int_t
ngx_rooms_identity_group_ok(ngx_str_t *group)
{
    u_char  c;
    size_t  i;

    if (group->len == 0 || group->len > ROOMS_GROUP_ID_MAX) {
        return NGX_DECLINED;
    }

    for (i = 0; i < group->len; i++) {
        c = group->data[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_rooms_identity_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_rooms_identity_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/* not found (logged as "-") for an anonymous request or an empty field */
static ngx_int_t
ngx_rooms_identity_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char            *p;
    size_t             len;
    ngx_str_t         *g;
    ngx_uint_t         i;
    ngx_rooms_user_t  *u;

    u = ngx_rooms_identity(r);
    if (u == NULL) {
        return NGX_ERROR;
    }

    v->not_found = 1;

    switch (data) {

    case NGX_ROOMS_IDENTITY_VAR_ID:
        v->data = u->id.data;
        v->len = u->id.len;
        break;

    case NGX_ROOMS_IDENTITY_VAR_NAME:
        v->data = u->name.data;
        v->len = u->name.len;
        break;

    default: /* NGX_ROOMS_IDENTITY_VAR_GROUPS */

        if (u->groups == NULL || u->groups->nelts == 0) {
            return NGX_OK;
        }

        g = u->groups->elts;
        len = 0;

        for (i = 0; i < u->groups->nelts; i++) {
            len += g[i].len + 1;
        }

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->data = p;

        for (i = 0; i < u->groups->nelts; i++) {
            if (i) {
                *p++ = ',';
            }

            p = ngx_cpymem(p, g[i].data, g[i].len);
        }

        v->len = p - v->data;
        break;
    }

    if (v->len) {
        v->valid = 1;
        v->not_found = 0;
        v->no_cacheable = 0;
    }

    return NGX_OK;
}
