
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_turn.c: TURN servers for the browsers that cannot reach the
 * media worker directly (README "Networks").
 *
 * Owns: the rooms_turn (turn:/turns: URLs, checked at "nginx -t" by
 * rooms_turn_url_check()), rooms_turn_secret (coturn's
 * static-auth-secret) and rooms_turn_ttl directives, and the credential
 * each welcome carries (rooms_turn_credential(): the TURN REST
 * convention, username "<expiry>:<participant id>": coturn logs the
 * username, and the participant id is what the media worker's log and
 * the webhook's events name too).  Must never log the
 * secret or a password, never put either in a page, and never mint a
 * credential for anyone but the browser whose welcome it goes into.
 * May not: call rooms_store_, call rooms_ws_, include rooms_ring.h, call ngx_rooms_ws_, call ngx_rooms_media_, call ngx_log_error, call ngx_log_debug
 */


#include "ngx_rooms_turn.h"

#include <jansson.h>
#include <openssl/crypto.h>

#include "rooms_turn.h"


/*
 * rooms_turn_secret: coturn takes any length, but a short shared secret
 * could be found from one credential by trying them all.
 */
#define NGX_ROOMS_TURN_SECRET_MIN   16

/*
 * rooms_turn_ttl.  coturn checks the expiry when a credential makes an
 * allocation; one made in time is refreshed past it (coturn 4.6 keeps
 * the session's key).  But a browser makes new allocations during a
 * call too: Chromium gathers again when the device changes networks
 * (Wi-Fi to mobile data), and those need a credential still valid.  A
 * day covers any meeting; a new join (a reload, a media worker restart)
 * gets a new credential.  A leaked one relays to the media worker only
 * (README "Networks": allowed-peer-ip), so a day costs little.
 */
#define NGX_ROOMS_TURN_TTL_DEFAULT  86400
#define NGX_ROOMS_TURN_TTL_MIN      60
#define NGX_ROOMS_TURN_TTL_MAX      (7 * 86400)


char *
ngx_rooms_turn_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rooms_main_conf_t *rmcf = conf;

    ngx_str_t    *value, *url;
    ngx_uint_t    i;
    const char   *why;

    if (rmcf->turn_urls == NULL) {
        rmcf->turn_urls = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (rmcf->turn_urls == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        why = rooms_turn_url_check((char *) value[i].data, value[i].len);

        if (why != NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid rooms_turn URL \"%V\": %s; expected "
                               "\"turn:host[:port][?transport=udp|tcp]\" or "
                               "\"turns:host[:port][?transport=tcp]\"",
                               &value[i], why);
            return NGX_CONF_ERROR;
        }

        if (rmcf->turn_urls->nelts == ROOMS_TURN_URLS_MAX) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "too many rooms_turn URLs: at most %d",
                               ROOMS_TURN_URLS_MAX);
            return NGX_CONF_ERROR;
        }

        url = ngx_array_push(rmcf->turn_urls);
        if (url == NULL) {
            return NGX_CONF_ERROR;
        }

        *url = value[i];
    }

    return NGX_CONF_OK;
}


char *
ngx_rooms_turn_secret_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_rooms_main_conf_t *rmcf = conf;

    ngx_str_t  *value;

    if (rmcf->turn_secret.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* the message never quotes the value */
    if (value[1].len < NGX_ROOMS_TURN_SECRET_MIN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rooms_turn_secret is too short: at least %d "
                           "bytes (for example: openssl rand -hex 32)",
                           NGX_ROOMS_TURN_SECRET_MIN);
        return NGX_CONF_ERROR;
    }

    rmcf->turn_secret = value[1];

    return NGX_CONF_OK;
}


char *
ngx_rooms_turn_ttl_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rooms_main_conf_t *rmcf = conf;

    time_t      t;
    ngx_str_t  *value;

    if (rmcf->turn_ttl != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    t = ngx_parse_time(&value[1], 1);

    if (t == (time_t) NGX_ERROR || t < NGX_ROOMS_TURN_TTL_MIN
        || t > NGX_ROOMS_TURN_TTL_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid rooms_turn_ttl \"%V\": a time from 1m "
                           "to 7d", &value[1]);
        return NGX_CONF_ERROR;
    }

    rmcf->turn_ttl = t;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_rooms_turn_init(ngx_conf_t *cf, ngx_rooms_main_conf_t *rmcf)
{
    if (rmcf->turn_ttl == NGX_CONF_UNSET) {
        rmcf->turn_ttl = NGX_ROOMS_TURN_TTL_DEFAULT;
    }

    if (rmcf->turn_urls != NULL && rmcf->turn_secret.data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rooms_turn\" needs \"rooms_turn_secret\" "
                           "(coturn's static-auth-secret) in the http block");
        return NGX_ERROR;
    }

    if (rmcf->turn_urls == NULL && rmcf->turn_secret.data != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rooms_turn_secret\" without \"rooms_turn\": "
                           "no TURN server to use it with");
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_rooms_turn_welcome(ngx_rooms_main_conf_t *rmcf, json_t *msg)
{
    char         user[ROOMS_TURN_USER_MAX];
    char         pass[ROOMS_TURN_PASS_LEN + 1];
    json_t      *servers, *server, *urls, *id;
    ngx_str_t   *url;
    ngx_int_t    rc;
    ngx_uint_t   i;

    if (rmcf->turn_urls == NULL) {
        return NGX_OK;
    }

    /* the participant's id, as the media worker wrote it in the welcome */
    id = json_object_get(msg, "id");

    if (!json_is_string(id)
        || rooms_turn_credential(rmcf->turn_secret.data,
                                 rmcf->turn_secret.len,
                                 (int64_t) (ngx_time() + rmcf->turn_ttl),
                                 json_string_value(id),
                                 json_string_length(id), user, pass)
           != 0)
    {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;
    servers = json_array();
    server = json_object();
    urls = json_array();

    if (servers == NULL || server == NULL || urls == NULL) {
        goto done;
    }

    url = rmcf->turn_urls->elts;

    for (i = 0; i < rmcf->turn_urls->nelts; i++) {
        if (json_array_append_new(urls, json_stringn((char *) url[i].data,
                                                     url[i].len))
            != 0)
        {
            goto done;
        }
    }

    /* an RTCIceServer, as the browser's RTCPeerConnection takes it */
    if (json_object_set(server, "urls", urls) != 0
        || json_object_set_new(server, "username", json_string(user)) != 0
        || json_object_set_new(server, "credential", json_string(pass)) != 0
        || json_array_append(servers, server) != 0
        || json_object_set(msg, "ice_servers", servers) != 0)
    {
        goto done;
    }

    rc = NGX_OK;

done:

    OPENSSL_cleanse(pass, sizeof(pass));
    json_decref(urls);
    json_decref(server);
    json_decref(servers);

    return rc;
}
