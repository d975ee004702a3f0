
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_pages.c: the HTML pages and the embedded web client files.
 *
 * Owns: the page where a person creates a room, the room page an invite
 * link opens, human error pages, and the security headers every page
 * carries (a strict Content-Security-Policy: scripts only from this
 * server, no inline script; no Referer, so invite codes in the path do not
 * leak to other sites).  Must never put client-supplied text into a page
 * unescaped, and never look a room up: the router gives it the room.
 * May not: call json_, include jansson.h, call rooms_store_, include rooms_ring.h, include rooms_ws.h, call ngx_rooms_dir_, call ngx_rooms_control_, call ngx_rooms_media_, call ngx_rooms_ws_, call ngx_rooms_signal_, call ngx_rooms_api_, call ngx_rooms_router_
 */


#include "ngx_rooms_pages.h"


typedef struct {
    const char                  *name;
    const char                  *value;
} ngx_rooms_header_t;


static ngx_rooms_header_t  ngx_rooms_page_headers[] = {
    { "Content-Security-Policy",
      "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
      "base-uri 'none'; form-action 'self'; frame-ancestors 'none'" },
    { "Referrer-Policy", "no-referrer" },
    { "X-Content-Type-Options", "nosniff" },
    { "Cache-Control", "no-store" },
    { NULL, NULL }
};


/*
 * Both pages are written in English; the web client translates them on
 * load (web/i18n.js: elements carry data-i18n keys) and the language
 * switch (#lang) is remembered in the browser.
 */

#define NGX_ROOMS_LANG_SWITCH                                                 \
    "<div class=\"lang\"><label for=\"lang\" data-i18n=\"language\">"         \
    "Language</label><select id=\"lang\">"                                    \
    "<option value=\"en\" lang=\"en\">English</option>"                       \
    "<option value=\"it\" lang=\"it\">Italiano</option>"                      \
    "</select></div>\n"


static const char  ngx_rooms_index_html[] =
    "<!doctype html>\n<html lang=\"en\">\n<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, "
    "initial-scale=1\">\n"
    "<title>Create a room</title>\n"
    "<link rel=\"icon\" href=\"data:,\">\n"
    "<link rel=\"stylesheet\" href=\"assets/rooms.css\">\n"
    "</head>\n<body>\n<main>\n"
    "<header class=\"top\">\n"
    "<h1 data-i18n=\"create.title\">Create a room</h1>\n"
    NGX_ROOMS_LANG_SWITCH
    "</header>\n"
    /* the tray of rooms open to you (tray.js fills it) */
    "<section id=\"tray\" class=\"tray\" hidden>"
    "</section>\n"
    "<p class=\"muted\" data-i18n=\"create.intro\">Anyone with the invite "
    "link can join from a browser: no account, no app.</p>\n"
    "<form id=\"create\" class=\"card\">\n"
    "<label for=\"title\">Title</label>\n"
    "<input id=\"title\" name=\"title\" maxlength=\"100\" "
    "placeholder=\"Friday drinks\" "
    "data-i18n-placeholder=\"create.placeholder\">\n"
    "<label for=\"activity\" data-i18n=\"create.activity\">Activity</label>\n"
    "<select id=\"activity\" name=\"activity\">\n"
    "%ACTIVITIES%"
    "<label for=\"admission\" data-i18n=\"create.admission\">Who gets in"
    "</label>\n"
    "<select id=\"admission\" name=\"admission\">\n"
    "<option value=\"open\" data-i18n=\"create.open\">Anyone with the link"
    "</option>\n"
    "<option value=\"knock\" data-i18n=\"create.knock\">People I admit"
    "</option>\n"
    "</select>\n"
    "<label for=\"start_at\" data-i18n=\"create.start\">Starts (leave empty "
    "for now)</label>\n"
    "<input id=\"start_at\" name=\"start_at\" type=\"datetime-local\">\n"
    "<button type=\"submit\">Create room</button>\n"
    "</form>\n"
    "<p id=\"error\" class=\"error\" role=\"alert\" hidden></p>\n"
    "<section id=\"result\" class=\"card\" hidden aria-live=\"polite\">\n"
    "<label for=\"invite\" data-i18n=\"create.invite\">Invite link: share it"
    "</label>\n"
    "<div class=\"row\"><input id=\"invite\" readonly>"
    "<button id=\"copy-invite\" type=\"button\" data-i18n=\"copy_invite\">"
    "Copy invite link</button></div>\n"
    "<label for=\"host\" data-i18n=\"create.host\">Host link: keep it to "
    "yourself</label>\n"
    "<div class=\"row\"><input id=\"host\" readonly>"
    "<button id=\"copy-host\" type=\"button\" class=\"secondary\" "
    "data-i18n=\"create.copy_host\">Copy host link</button></div>\n"
    "<p><a id=\"open-host\" href=\"#\" data-i18n=\"create.open_host\">"
    "Open the room as host</a></p>\n"
    "</section>\n"
    "</main>\n"
    "<script type=\"module\" src=\"assets/create.js\"></script>\n"
    "</body>\n</html>\n";


/*
 * The room page.  The ids are room.js's hooks; the call (tiles, controls,
 * participant panel, settings dialog) stays hidden until the person
 * joins.  The status line carries what room.js needs to say it again in
 * another language (data-locked, data-start-at, data-admission), and the
 * activity line both labels (data-en, data-it).  A knock room's lobby
 * has the guest's waiting card (#waiting) and, for the host, the panel's
 * "Waiting" list (#lobby) and the banner of who knocks (#knock).
 */

static const char  ngx_rooms_room_head[] =
    "<!doctype html>\n<html lang=\"en\">\n<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, "
    "initial-scale=1\">\n<title>";


static const char  ngx_rooms_room_call[] =
    "</p>\n"
    "<p id=\"error\" class=\"error\" role=\"alert\" hidden></p>\n"
    "<div class=\"notices\" aria-live=\"polite\">"
    "<p id=\"notice\" class=\"notice\" hidden></p></div>\n"
    "<div class=\"knocks\" aria-live=\"polite\">"
    "<div id=\"knock\" class=\"knock\" hidden>"
    "<span class=\"avatar-sm\" aria-hidden=\"true\"></span>"
    "<p id=\"knock-text\"></p>"
    "<button type=\"button\" class=\"dismiss\" data-action=\"dismiss\" "
    "aria-label=\"Dismiss\" data-i18n-label=\"dismiss\">"
    "<span data-icon=\"close\"></span></button>"
    "<div class=\"knock-actions\">"
    "<button type=\"button\" class=\"small\" data-action=\"admit\" "
    "aria-describedby=\"knock-text\" data-i18n=\"admit\">Admit</button>"
    "<button type=\"button\" class=\"small secondary\" "
    "data-action=\"deny\" aria-describedby=\"knock-text\" "
    "data-i18n=\"deny\">Deny</button>"
    "<button type=\"button\" class=\"small secondary\" "
    "data-action=\"all\" data-i18n=\"see_all\" hidden>See everyone"
    "</button></div></div></div>\n"
    "<form id=\"join\" class=\"card\">\n"
    "<label for=\"name\" data-i18n=\"join.name\">Your name</label>\n"
    "<div class=\"row\"><input id=\"name\" name=\"name\" "
    "maxlength=\"64\" required autocomplete=\"nickname\">"
    "<button type=\"submit\" data-i18n=\"join.button\">Join</button></div>\n"
    "</form>\n"
    "<section id=\"waiting\" class=\"card wait-card\" hidden>\n"
    "<span class=\"knocking\" data-icon=\"door\"></span>"
    "<p id=\"waiting-as\"></p>\n"
    "<button id=\"waiting-leave\" type=\"button\" class=\"secondary\">"
    "<span data-icon=\"leave\"></span>"
    "<span data-i18n=\"leave\">Leave</span></button>\n"
    "</section>\n"
    "<section id=\"call\" aria-label=\"Call\" data-i18n-label=\"call\" "
    "hidden>\n"
    "<div class=\"stage\">\n"
    "<div id=\"tiles\" class=\"tiles\">"
    "<figure class=\"tile\" id=\"self\">"
    "<video id=\"local\" aria-label=\"You\" data-i18n-label=\"you\" "
    "autoplay playsinline muted></video>"
    "<div class=\"avatar\" aria-hidden=\"true\"><span></span></div>"
    "<figcaption><span class=\"name\" data-i18n=\"you\">You</span>"
    "<span class=\"role-tag\" data-i18n=\"role.host\" hidden>Host</span>"
    "<span class=\"badge\" data-badge=\"audio\" hidden>"
    "<span data-icon=\"mic-off\"></span>"
    "<span class=\"vh\" data-i18n=\"mic_off\">mic off</span></span>"
    "<span class=\"badge\" data-badge=\"video\" hidden>"
    "<span data-icon=\"cam-off\"></span>"
    "<span class=\"vh\" data-i18n=\"cam_off\">camera off</span></span>"
    "</figcaption></figure>"
    "</div>\n"
    "<aside id=\"people\" class=\"panel\" aria-labelledby=\"people-title\" "
    "hidden>\n"
    "<section id=\"lobby\" class=\"lobby\" aria-labelledby=\"lobby-title\" "
    "hidden>\n"
    "<h2 id=\"lobby-title\" data-i18n=\"lobby\">Waiting</h2>\n"
    "<ul id=\"lobby-list\" class=\"people\"></ul>\n"
    "</section>\n"
    "<h2 id=\"people-title\" data-i18n=\"participants\">Participants</h2>\n"
    "<ul id=\"people-list\" class=\"people\"></ul>\n"
    "</aside>\n"
    "</div>\n"
    "<div class=\"controls\">"
    "<button id=\"mic\" type=\"button\" class=\"toggle\" "
    "aria-pressed=\"true\"><span data-icon=\"mic\"></span>"
    "<span data-icon=\"mic-off\"></span>"
    "<span class=\"label\" data-i18n=\"mic\">Microphone</span></button>"
    "<button id=\"cam\" type=\"button\" class=\"toggle\" "
    "aria-pressed=\"true\"><span data-icon=\"cam\"></span>"
    "<span data-icon=\"cam-off\"></span>"
    "<span class=\"label\" data-i18n=\"cam\">Camera</span></button>"
    "<button id=\"share\" type=\"button\" class=\"secondary\" "
    "aria-pressed=\"false\" hidden><span data-icon=\"screen\"></span>"
    "<span class=\"label\" data-i18n=\"share\">Share screen</span>"
    "</button>"
    "<button id=\"people-toggle\" type=\"button\" class=\"secondary\" "
    "aria-expanded=\"false\" aria-controls=\"people\">"
    "<span data-icon=\"people\"></span>"
    "<span class=\"label\" data-i18n=\"participants\">Participants</span> "
    "<span id=\"people-count\" class=\"count\">1</span>"
    "<span id=\"lobby-count\" class=\"count lobby-count\" hidden></span>"
    "</button>"
    "<button id=\"settings-open\" type=\"button\" class=\"secondary\" "
    "aria-haspopup=\"dialog\"><span data-icon=\"settings\"></span>"
    "<span class=\"label\" data-i18n=\"settings\">Settings</span></button>"
    "<button id=\"leave\" type=\"button\" class=\"danger\">"
    "<span data-icon=\"leave\"></span>"
    "<span class=\"label\" data-i18n=\"leave\">Leave</span></button>"
    "</div>\n"
    "</section>\n"
    "<section id=\"invite-card\" class=\"card\">\n"
    "<label for=\"invite\" data-i18n=\"invite\">Invite link</label>\n"
    "<div class=\"row\"><input id=\"invite\" readonly>"
    "<button id=\"copy-invite\" type=\"button\" class=\"secondary\">"
    "<span data-icon=\"copy\"></span>"
    "<span data-i18n=\"copy_invite\">Copy invite link</span></button></div>\n"
    "</section>\n"
    "<section id=\"host-controls\" class=\"card\" "
    "aria-labelledby=\"host-title\" hidden>\n"
    "<h2 id=\"host-title\" data-i18n=\"host_controls\">Host controls</h2>\n"
    "<button id=\"lock\" type=\"button\" class=\"secondary\" "
    "data-i18n=\"lock\">Lock room</button>\n"
    "<button id=\"rotate\" type=\"button\" class=\"secondary\" "
    "data-i18n=\"rotate\">New invite link</button>\n"
    "<button id=\"end\" type=\"button\" class=\"danger\" data-i18n=\"end\">"
    "End room</button>\n"
    "</section>\n"
    "<dialog id=\"settings\" aria-labelledby=\"settings-title\">\n"
    "<h2 id=\"settings-title\" data-i18n=\"settings\">Settings</h2>\n"
    "<label for=\"mic-device\" data-i18n=\"mic_device\">Microphone device"
    "</label>\n"
    "<select id=\"mic-device\"></select>\n"
    "<label for=\"cam-device\" data-i18n=\"cam_device\">Camera device"
    "</label>\n"
    "<select id=\"cam-device\"></select>\n"
    "<button id=\"settings-close\" type=\"button\" data-i18n=\"close\">"
    "Close</button>\n"
    "</dialog>\n"
    "</main>\n"
    "<script type=\"module\" src=\"../assets/room.js\"></script>\n"
    "</body>\n</html>\n";


static ngx_int_t ngx_rooms_page_send(ngx_http_request_t *r,
    ngx_uint_t status, ngx_str_t *type, u_char *data, size_t len,
    ngx_uint_t page);
static u_char *ngx_rooms_escape(u_char *dst, const char *src);


ngx_int_t
ngx_rooms_page_index(ngx_http_request_t *r)
{
    u_char       *buf, *p;
    size_t        len;
    ngx_str_t     type;
    ngx_uint_t    i;
    const char   *mark, *html;

    html = ngx_rooms_index_html;
    mark = ngx_strstr(html, "%ACTIVITIES%");

    len = sizeof(ngx_rooms_index_html)
          + sizeof("</select>\n<template id=\"activity-labels\">\n"
                   "</template>\n");

    for (i = 0; i < rooms_nactivities; i++) {
        len += sizeof("<option value=\"\"></option>\n")
               + ngx_strlen(rooms_activities[i].name)
               + ngx_strlen(rooms_activities[i].en) * 6
               + sizeof("<option value=\"\" data-en=\"\" data-it=\"\">"
                        "</option>\n")
               + ngx_strlen(rooms_activities[i].name)
               + (ngx_strlen(rooms_activities[i].en)
                  + ngx_strlen(rooms_activities[i].it)) * 6;
    }

    buf = ngx_pnalloc(r->pool, len);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(buf, html, mark - html);

    for (i = 0; i < rooms_nactivities; i++) {
        p = ngx_sprintf(p, "<option value=\"%s\"%s>",
                        rooms_activities[i].name,
                        i == ROOMS_ACTIVITY_DEFAULT ? " selected" : "");
        p = ngx_rooms_escape(p, rooms_activities[i].en);
        p = ngx_cpymem(p, "</option>\n", sizeof("</option>\n") - 1);
    }

    /* both labels of each activity, for the client's language switch */

    p = ngx_cpymem(p, "</select>\n<template id=\"activity-labels\">\n",
                   sizeof("</select>\n<template id=\"activity-labels\">\n")
                   - 1);

    for (i = 0; i < rooms_nactivities; i++) {
        p = ngx_sprintf(p, "<option value=\"%s\" data-en=\"",
                        rooms_activities[i].name);
        p = ngx_rooms_escape(p, rooms_activities[i].en);
        p = ngx_cpymem(p, "\" data-it=\"", sizeof("\" data-it=\"") - 1);
        p = ngx_rooms_escape(p, rooms_activities[i].it);
        p = ngx_cpymem(p, "\"></option>\n", sizeof("\"></option>\n") - 1);
    }

    p = ngx_cpymem(p, "</template>\n", sizeof("</template>\n") - 1);

    mark += sizeof("%ACTIVITIES%") - 1;
    p = ngx_cpymem(p, mark, ngx_strlen(mark));

    ngx_str_set(&type, "text/html; charset=utf-8");

    return ngx_rooms_page_send(r, NGX_HTTP_OK, &type, buf, p - buf, 1);
}


ngx_int_t
ngx_rooms_page_room(ngx_http_request_t *r, ngx_uint_t status,
    rooms_room_t *room)
{
    u_char                  *buf, *p;
    size_t                   len;
    ngx_str_t                type;
    const char              *title, *state;
    const rooms_activity_t  *act;
    char                     when[ROOMS_TIME_LEN + 1];

    act = &rooms_activities[room->activity < rooms_nactivities
                            ? room->activity : ROOMS_ACTIVITY_DEFAULT];

    title = room->title[0] ? room->title : act->en;
    state = rooms_state(room, ngx_time());

    len = sizeof(ngx_rooms_room_head) + sizeof(ngx_rooms_room_call) + 2048
          + ngx_strlen(title) * 6 * 2 + (ngx_strlen(act->en)
          + ngx_strlen(act->it)) * 6 * 2 + ROOMS_CODE_LEN;

    buf = ngx_pnalloc(r->pool, len);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(buf, ngx_rooms_room_head, sizeof(ngx_rooms_room_head) - 1);
    p = ngx_rooms_escape(p, title);
    p = ngx_sprintf(p, "</title>\n"
                    "<link rel=\"icon\" href=\"data:,\">\n"
                    "<link rel=\"stylesheet\" href=\"../assets/rooms.css\">\n"
                    "</head>\n<body>\n"
                    "<main id=\"room\" data-code=\"%s\" data-state=\"%s\">\n"
                    "<header class=\"top\">\n<div class=\"heading\">\n"
                    "<h1 id=\"title\">", room->code, state);
    p = ngx_rooms_escape(p, title);
    p = ngx_cpymem(p, "</h1>\n<p id=\"activity\" class=\"muted\" data-en=\"",
                   sizeof("</h1>\n<p id=\"activity\" class=\"muted\" "
                          "data-en=\"") - 1);
    p = ngx_rooms_escape(p, act->en);
    p = ngx_cpymem(p, "\" data-it=\"", sizeof("\" data-it=\"") - 1);
    p = ngx_rooms_escape(p, act->it);
    p = ngx_sprintf(p, "\"%s>", room->title[0] ? "" : " data-untitled=\"1\"");
    p = ngx_rooms_escape(p, act->en);
    p = ngx_cpymem(p, " &middot; <span lang=\"it\">",
                   sizeof(" &middot; <span lang=\"it\">") - 1);
    p = ngx_rooms_escape(p, act->it);
    rooms_time_format(room->start_at, when);

    p = ngx_sprintf(p, "</span></p>\n</div>\n" NGX_ROOMS_LANG_SWITCH
                    "</header>\n"
                    "<p id=\"status\" role=\"status\" data-locked=\"%s\" "
                    "data-start-at=\"%s\" data-admission=\"%s\">",
                    room->locked ? "1" : "", when,
                    room->admission == ROOMS_ADMISSION_KNOCK
                    ? "knock" : "open");

    if (ngx_strcmp(state, "ended") == 0) {
        p = ngx_sprintf(p, "This room has ended.");

    } else if (ngx_strcmp(state, "scheduled") == 0) {
        p = ngx_sprintf(p, "This room opens on %s.", when);

    } else if (room->locked) {
        p = ngx_sprintf(p, "The host has locked this room.");

    } else if (room->admission == ROOMS_ADMISSION_KNOCK) {
        p = ngx_sprintf(p, "The host lets people into this room: you will "
                        "wait until they admit you.");

    } else {
        p = ngx_sprintf(p, "This room is open.");
    }

    p = ngx_cpymem(p, ngx_rooms_room_call, sizeof(ngx_rooms_room_call) - 1);

    ngx_str_set(&type, "text/html; charset=utf-8");

    return ngx_rooms_page_send(r, status, &type, buf, p - buf, 1);
}


ngx_int_t
ngx_rooms_page_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, const char *text)
{
    u_char     *buf, *p;
    size_t      len;
    ngx_str_t   type;

    len = 512 + ngx_strlen(title) * 2 + ngx_strlen(text);

    buf = ngx_pnalloc(r->pool, len);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* both strings are the module's own constants, not client input */
    p = ngx_sprintf(buf, "<!doctype html>\n<html lang=\"en\">\n<head>\n"
                    "<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, "
                    "initial-scale=1\">\n<title>%s</title>\n</head>\n"
                    "<body>\n<main>\n<h1>%s</h1>\n<p>%s</p>\n</main>\n"
                    "</body>\n</html>\n", title, title, text);

    ngx_str_set(&type, "text/html; charset=utf-8");

    return ngx_rooms_page_send(r, status, &type, buf, p - buf, 1);
}


ngx_int_t
ngx_rooms_page_asset(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_rooms_asset_t  *a;

    for (a = ngx_rooms_assets; a->name.len; a++) {
        if (a->name.len == name->len
            && ngx_strncmp(a->name.data, name->data, name->len) == 0)
        {
            return ngx_rooms_page_send(r, NGX_HTTP_OK, &a->type,
                                       a->body.data, a->body.len, 0);
        }
    }

    return ngx_rooms_page_error(r, NGX_HTTP_NOT_FOUND, "Not found",
                                "There is nothing at this address.");
}


static ngx_int_t
ngx_rooms_page_send(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, u_char *data, size_t len, ngx_uint_t page)
{
    ngx_int_t            rc;
    ngx_buf_t           *b;
    ngx_chain_t          out;
    ngx_table_elt_t     *h;
    ngx_rooms_header_t  *hdr;

    for (hdr = ngx_rooms_page_headers; hdr->name; hdr++) {

        /* assets may be cached; pages carry codes and must not be */
        if (!page && ngx_strcmp(hdr->name, "Cache-Control") == 0) {
            continue;
        }

        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        h->key.data = (u_char *) hdr->name;
        h->key.len = ngx_strlen(hdr->name);
        h->value.data = (u_char *) hdr->value;
        h->value.len = ngx_strlen(hdr->value);
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = data;
    b->last = data + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* HTML-escapes a zero-terminated string; dst needs 6 bytes per byte */
static u_char *
ngx_rooms_escape(u_char *dst, const char *src)
{
    for ( /* void */ ; *src; src++) {

        switch (*src) {

        case '<':
            dst = ngx_cpymem(dst, "&lt;", 4);
            break;

        case '>':
            dst = ngx_cpymem(dst, "&gt;", 4);
            break;

        case '&':
            dst = ngx_cpymem(dst, "&amp;", 5);
            break;

        case '"':
            dst = ngx_cpymem(dst, "&quot;", 6);
            break;

        case '\'':
            dst = ngx_cpymem(dst, "&#39;", 5);
            break;

        default:
            *dst++ = (u_char) *src;
        }
    }

    return dst;
}
