
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_policy.c: the site's rules, in a Lua file (docs/policy.md).
 *
 * Owns: the rooms_policy directive; the LuaJIT state that holds the file
 * (made, compiled and run once at configuration, in the master, so that
 * "nginx -t" reports a syntax error with its line and a failing data
 * file; each nginx worker gets its own copy of it by fork(), and a
 * reload makes a new one); the sandbox (no I/O ever in the state: data
 * files are read by the top level through rooms.read_json() and
 * rooms.read_file(), which refuse in a hook); each call's
 * instruction budget and memory cap; the plain tables a hook is given
 * and the checks on what it returns.
 * Must never let a hook stall or crash a worker: every call into Lua is
 * protected, the interpreter alone runs (the JIT is off: LuaJIT does not
 * count instructions inside compiled traces, so only the interpreter can
 * be stopped), and a failure denies with a logged reason while the state
 * goes on serving.  Must never decide who someone is or what a room is:
 * it passes what the callers give and hands back what the hook said.
 * May not: call rooms_store_, include rooms_ring.h, include rooms_ws.h, call ngx_rooms_identity, call ngx_rooms_dir_, call ngx_rooms_control_, call ngx_rooms_media_, call ngx_rooms_ws_, call ngx_rooms_signal_, call ngx_rooms_api_
 */


#include "ngx_rooms.h"
#include "ngx_rooms_identity.h"
#include "ngx_rooms_policy.h"

#include <jansson.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <luajit.h>


/*
 * Each call may run this many bytecode instructions: a hook compares a
 * few strings and looks up a table or two, which is thousands; a million
 * is a few milliseconds of the interpreter, so a hook that loops forever
 * costs the worker that long, once per call, and is denied.
 */
#define NGX_ROOMS_POLICY_BUDGET      1000000

/*
 * The file's top level may run longer: it runs once, at configuration,
 * and may build tables from data files (about a second's work).
 */
#define NGX_ROOMS_POLICY_LOAD_BUDGET 100000000

/*
 * Memory: the top level may hold up to 64 MiB (its data), each call 4
 * MiB more than what the top level left (a request's tables are a few
 * KiB; a list of a thousand ids well under 100 KiB).  An allocation past
 * the cap fails, the call fails with it, and the garbage is collected.
 */
#define NGX_ROOMS_POLICY_LOAD_MEM    (64 * 1024 * 1024)
#define NGX_ROOMS_POLICY_CALL_MEM    (4 * 1024 * 1024)

/* a string a hook returns (an id, a name, a group, a reason), in bytes */
#define NGX_ROOMS_POLICY_STRING_MAX  1024

/* cookies handed to identify(): a browser keeps at most ~180 per site */
#define NGX_ROOMS_POLICY_COOKIES_MAX 64

/* nesting of a data file's JSON: each level is a C call frame */
#define NGX_ROOMS_POLICY_JSON_DEPTH  64


typedef enum {
    NGX_ROOMS_HOOK_IDENTIFY = 0,
    NGX_ROOMS_HOOK_CAN_CREATE,
    NGX_ROOMS_HOOK_CAN_JOIN,
    NGX_ROOMS_HOOK_PEOPLE,
    NGX_ROOMS_HOOK_N
} ngx_rooms_hook_e;


static const char  *ngx_rooms_hook_names[NGX_ROOMS_HOOK_N] = {
    "identify", "can_create", "can_join", "people"
};


struct ngx_rooms_policy_s {
    lua_State                   *L;
    ngx_str_t                    path;
    ngx_str_t                    dir;            /* ends in '/' */
    size_t                       used;           /* bytes the state holds */
    size_t                       limit;          /* what it may hold now */
    size_t                       base;           /* held once loaded */
    int                          ref[NGX_ROOMS_HOOK_N];  /* LUA_NOREF: none */
    unsigned                     loaded:1;       /* the top level ran */
};


typedef struct {
    FILE                        *file;
    json_t                      *json;
} ngx_rooms_policy_box_t;


/* one call's inputs and outputs, for ngx_rooms_policy_run() */
typedef struct {
    ngx_rooms_policy_t          *policy;
    ngx_rooms_hook_e             hook;
    ngx_http_request_t          *r;
    ngx_rooms_user_t            *user;
    rooms_room_t                *room;

    /* answers */
    ngx_int_t                    verdict;        /* NGX_OK, DECLINED, KNOCK */
    ngx_str_t                    reason;
    ngx_str_t                   *id;
    ngx_str_t                   *name;
    ngx_array_t                 *list;           /* groups or ids */
    ngx_uint_t                   skipped;
} ngx_rooms_policy_call_t;


static void *ngx_rooms_policy_alloc(void *ud, void *ptr, size_t osize,
    size_t nsize);
static void ngx_rooms_policy_budget(lua_State *L, lua_Debug *ar);
static int ngx_rooms_policy_load(lua_State *L);
static int ngx_rooms_policy_read_json(lua_State *L);
static ngx_rooms_policy_box_t *ngx_rooms_policy_box(lua_State *L);
static int ngx_rooms_policy_box_gc(lua_State *L);
static void ngx_rooms_policy_push_json(lua_State *L, json_t *v,
    ngx_uint_t depth);
static const char *ngx_rooms_policy_data_file(lua_State *L,
    ngx_rooms_policy_t *policy, const char *helper);
static int ngx_rooms_policy_read_file(lua_State *L);
static void ngx_rooms_policy_cleanup(void *data);
static ngx_int_t ngx_rooms_policy_call(ngx_http_request_t *r,
    ngx_rooms_policy_call_t *call);
static int ngx_rooms_policy_run(lua_State *L);
static void ngx_rooms_policy_push_request(lua_State *L,
    ngx_http_request_t *r);
static void ngx_rooms_policy_push_cookies(lua_State *L, ngx_str_t *value,
    ngx_uint_t *n);
static void ngx_rooms_policy_push_user(lua_State *L, ngx_rooms_user_t *u);
static void ngx_rooms_policy_push_room(lua_State *L, rooms_room_t *room);
static void ngx_rooms_policy_verdict(lua_State *L,
    ngx_rooms_policy_call_t *call);
static void ngx_rooms_policy_string(lua_State *L, int idx,
    ngx_rooms_policy_call_t *call, ngx_str_t *s, const char *what);
static void ngx_rooms_policy_list(lua_State *L, int idx,
    ngx_rooms_policy_call_t *call, size_t max, const char *what);
static ngx_int_t ngx_rooms_policy_deny(ngx_http_request_t *r,
    ngx_str_t *reason);
static ngx_rooms_policy_t *ngx_rooms_policy_get(ngx_http_request_t *r,
    ngx_rooms_hook_e hook);


static ngx_str_t  ngx_rooms_policy_no_reason =
    ngx_string("the site's rules do not allow this");


/*
 * The state's allocator: every byte it holds is counted against
 * policy->limit, which is how the memory cap holds (LuaJIT on this
 * platform takes an allocator: GC64).
 */
static void *
ngx_rooms_policy_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    ngx_rooms_policy_t *policy = ud;

    void  *p;

    if (nsize == 0) {
        free(ptr);
        policy->used -= osize;
        return NULL;
    }

    if (nsize > osize && policy->used - osize + nsize > policy->limit) {
        return NULL;
    }

    p = realloc(ptr, nsize);

    if (p != NULL) {
        policy->used = policy->used - osize + nsize;
    }

    return p;
}


/*
 * The count hook: called once the budget is spent, it ends the call.  It
 * then fires at every instruction, so a hook that catches the error with
 * pcall() and goes on is stopped again at once, up to the call's end.
 */
static void
ngx_rooms_policy_budget(lua_State *L, lua_Debug *ar)
{
    lua_sethook(L, ngx_rooms_policy_budget, LUA_MASKCOUNT, 1);

    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0) {
        lua_pushfstring(L, "%s:%d: ", ar->short_src, ar->currentline);

    } else {
        lua_pushliteral(L, "");
    }

    lua_pushliteral(L, "the instruction budget is spent (an endless loop?)");
    lua_concat(L, 2);
    lua_error(L);
}


char *
ngx_rooms_policy_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rooms_main_conf_t *rmcf = conf;

    int                  rc;
    u_char              *p;
    ngx_str_t           *value;
    ngx_uint_t           i, hooks;
    ngx_pool_cleanup_t  *cln;
    ngx_rooms_policy_t  *policy;

    if (rmcf->policy != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    policy = ngx_pcalloc(cf->pool, sizeof(ngx_rooms_policy_t));
    if (policy == NULL) {
        return NGX_CONF_ERROR;
    }

    policy->path = value[1];

    /* relative to the configuration's folder, as "include" is */
    if (policy->path.len == 0
        || ngx_conf_full_name(cf->cycle, &policy->path, 1) != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rooms_policy needs the path of a Lua file");
        return NGX_CONF_ERROR;
    }

    policy->dir = policy->path;

    while (policy->dir.len && policy->dir.data[policy->dir.len - 1] != '/') {
        policy->dir.len--;
    }

    for (i = 0; i < NGX_ROOMS_HOOK_N; i++) {
        policy->ref[i] = LUA_NOREF;
    }

    policy->limit = NGX_ROOMS_POLICY_LOAD_MEM;

    policy->L = lua_newstate(ngx_rooms_policy_alloc, policy);
    if (policy->L == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rooms_policy \"%V\": LuaJIT could not make a "
                           "state", &policy->path);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        lua_close(policy->L);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_rooms_policy_cleanup;
    cln->data = policy;

    /* the interpreter alone: its count hook is the budget (see above) */
    if (!luaJIT_setmode(policy->L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rooms_policy \"%V\": LuaJIT's compiler cannot "
                           "be turned off, so no budget could stop a hook",
                           &policy->path);
        return NGX_CONF_ERROR;
    }

    lua_sethook(policy->L, ngx_rooms_policy_budget, LUA_MASKCOUNT,
                NGX_ROOMS_POLICY_LOAD_BUDGET);

    rc = lua_cpcall(policy->L, ngx_rooms_policy_load, policy);

    lua_sethook(policy->L, NULL, 0, 0);

    if (rc != 0) {
        p = (u_char *) lua_tostring(policy->L, -1);

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "rooms_policy \"%V\": %s",
                           &policy->path,
                           rc == LUA_ERRMEM ? "its top level holds more "
                                              "than 64 MiB"
                           : p ? (char *) p : "it failed");
        return NGX_CONF_ERROR;
    }

    hooks = 0;

    for (i = 0; i < NGX_ROOMS_HOOK_N; i++) {
        hooks += policy->ref[i] != LUA_NOREF;
    }

    if (hooks == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "rooms_policy \"%V\" defines none of identify, "
                           "can_create, can_join and people",
                           &policy->path);
    }

    /* what the top level keeps; each call may use CALL_MEM more */
    lua_settop(policy->L, 0);
    lua_gc(policy->L, LUA_GCCOLLECT, 0);
    policy->base = policy->used;
    policy->limit = policy->base + NGX_ROOMS_POLICY_CALL_MEM;

    rmcf->policy = policy;

    return NGX_CONF_OK;
}


static void
ngx_rooms_policy_cleanup(void *data)
{
    ngx_rooms_policy_t *policy = data;

    lua_close(policy->L);
}


/*
 * Under lua_cpcall(): the libraries the file may use, the helpers
 * rooms.read_json() and rooms.read_file(), the file compiled (a syntax
 * error is reported with its line) and run, its hooks kept in the
 * registry, then what only the top level needed is taken away.
 *
 * No I/O is ever in the state: no io library, no loadfile, dofile or
 * print, and of os only the clock, the calendar and getenv.  So nothing
 * the top level keeps in a local can do I/O later, as a kept io.open
 * could: the top level reads data through the helpers, which refuse
 * once it has run (policy->loaded).
 */
static int
ngx_rooms_policy_load(lua_State *L)
{
    ngx_rooms_policy_t  *policy;

    ngx_uint_t           i;

    static const struct {
        const char     *name;
        lua_CFunction   open;
    } libs[] = {
        { "", luaopen_base },
        { LUA_TABLIBNAME, luaopen_table },
        { LUA_STRLIBNAME, luaopen_string },
        { LUA_MATHLIBNAME, luaopen_math },
        { LUA_BITLIBNAME, luaopen_bit },
        { LUA_OSLIBNAME, luaopen_os },
    };

    /* I/O, or code loaded from a file: gone before the file runs */
    static const char  *never[] = {
        "dofile", "loadfile", "print"
    };

    static const char  *os_never[] = {
        "execute", "exit", "remove", "rename", "tmpname", "setlocale"
    };

    /* what the top level may use, and the hooks not */
    static const char  *load_only[] = {
        "rooms", "load", "loadstring", "collectgarbage", "getfenv",
        "setfenv", "newproxy", "gcinfo"
    };

    policy = lua_touserdata(L, 1);

    for (i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
        lua_pushcfunction(L, libs[i].open);
        lua_pushstring(L, libs[i].name);
        lua_call(L, 1, 0);
    }

    for (i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
        lua_pushnil(L);
        lua_setglobal(L, never[i]);
    }

    lua_getglobal(L, LUA_OSLIBNAME);

    for (i = 0; i < sizeof(os_never) / sizeof(os_never[0]); i++) {
        lua_pushnil(L);
        lua_setfield(L, -2, os_never[i]);
    }

    lua_pop(L, 1);

    /* the helpers' upvalues: the policy, and the metatable of their box */
    lua_createtable(L, 0, 2);

    lua_pushlightuserdata(L, policy);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, ngx_rooms_policy_box_gc);
    lua_setfield(L, -2, "__gc");

    lua_pushvalue(L, -2);
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, ngx_rooms_policy_read_json, 2);
    lua_setfield(L, -4, "read_json");

    lua_pushcclosure(L, ngx_rooms_policy_read_file, 2);
    lua_setfield(L, -2, "read_file");

    lua_setglobal(L, "rooms");

    if (luaL_loadfile(L, (char *) policy->path.data) != 0) {
        return lua_error(L);
    }

    lua_call(L, 0, 0);

    for (i = 0; i < NGX_ROOMS_HOOK_N; i++) {
        lua_getglobal(L, ngx_rooms_hook_names[i]);

        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            continue;
        }

        if (!lua_isfunction(L, -1)) {
            return luaL_error(L, "\"%s\" is a %s, not a function",
                              ngx_rooms_hook_names[i], luaL_typename(L, -1));
        }

        policy->ref[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }

    for (i = 0; i < sizeof(load_only) / sizeof(load_only[0]); i++) {
        lua_pushnil(L);
        lua_setglobal(L, load_only[i]);
    }

    policy->loaded = 1;

    return 0;
}


/*
 * The full name of a data file (a relative one is in the policy file's
 * folder), also left at the top of the stack; a Lua error once the top
 * level has run.
 */
static const char *
ngx_rooms_policy_data_file(lua_State *L, ngx_rooms_policy_t *policy,
    const char *helper)
{
    size_t        len;
    const char   *name;
    luaL_Buffer   b;

    if (policy->loaded) {
        luaL_error(L, "rooms.%s() reads data files at start-up and reload "
                   "only, not in a hook", helper);
    }

    name = luaL_checklstring(L, 1, &len);

    if (name[0] == '/') {
        lua_pushvalue(L, 1);
        return name;
    }

    luaL_buffinit(L, &b);
    luaL_addlstring(&b, (char *) policy->dir.data, policy->dir.len);
    luaL_addlstring(&b, name, len);
    luaL_pushresult(&b);

    return lua_tostring(L, -1);
}


/*
 * What a helper opened or parsed, in a userdata whose __gc releases it:
 * a Lua error (the memory cap) while it is in use leaks nothing.
 */
static ngx_rooms_policy_box_t *
ngx_rooms_policy_box(lua_State *L)
{
    ngx_rooms_policy_box_t  *box;

    box = lua_newuserdata(L, sizeof(ngx_rooms_policy_box_t));
    box->file = NULL;
    box->json = NULL;
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_setmetatable(L, -2);

    return box;
}


static int
ngx_rooms_policy_box_gc(lua_State *L)
{
    ngx_rooms_policy_box_t  *box;

    box = lua_touserdata(L, 1);

    if (box->file != NULL) {
        fclose(box->file);
        box->file = NULL;
    }

    if (box->json != NULL) {
        json_decref(box->json);
        box->json = NULL;
    }

    return 0;
}


/*
 * rooms.read_file(path): a data file's bytes as one string (a list of
 * names, a CSV export), within the top level's memory.
 */
static int
ngx_rooms_policy_read_file(lua_State *L)
{
    char                     buf[4096];
    size_t                   n;
    const char              *name;
    luaL_Buffer              b;
    ngx_rooms_policy_t      *policy;
    ngx_rooms_policy_box_t  *box;

    policy = lua_touserdata(L, lua_upvalueindex(1));
    name = ngx_rooms_policy_data_file(L, policy, "read_file");
    box = ngx_rooms_policy_box(L);

    box->file = fopen(name, "rb");
    if (box->file == NULL) {
        return luaL_error(L, "rooms.read_file(\"%s\"): %s", name,
                          strerror(errno));
    }

    luaL_buffinit(L, &b);

    while ((n = fread(buf, 1, sizeof(buf), box->file)) > 0) {
        luaL_addlstring(&b, buf, n);
    }

    if (ferror(box->file)) {
        return luaL_error(L, "rooms.read_file(\"%s\"): read error", name);
    }

    luaL_pushresult(&b);

    return 1;
}


/*
 * rooms.read_json(path): a data file, as plain tables (objects and
 * arrays; null is nil), for the top level.  A relative path is the
 * policy file's folder's.  The parsed document is held by a userdata
 * whose __gc frees it, so that a Lua error while the tables are built
 * (the memory cap) leaks nothing.
 */
static int
ngx_rooms_policy_read_json(lua_State *L)
{
    const char              *name;
    json_error_t             err;
    ngx_rooms_policy_t      *policy;
    ngx_rooms_policy_box_t  *box;

    policy = lua_touserdata(L, lua_upvalueindex(1));
    name = ngx_rooms_policy_data_file(L, policy, "read_json");
    box = ngx_rooms_policy_box(L);

    box->json = json_load_file(name, JSON_REJECT_DUPLICATES, &err);

    if (box->json == NULL) {
        return luaL_error(L, "rooms.read_json(\"%s\"): line %d: %s", name,
                          err.line, err.text);
    }

    ngx_rooms_policy_push_json(L, box->json, 0);

    return 1;
}


/* Pushes v as a Lua value; deeper than the bound is nil. */
static void
ngx_rooms_policy_push_json(lua_State *L, json_t *v, ngx_uint_t depth)
{
    size_t       i;
    json_t      *item;
    const char  *key;

    if (depth > NGX_ROOMS_POLICY_JSON_DEPTH) {
        lua_pushnil(L);
        return;
    }

    luaL_checkstack(L, 4, "a data file nested too deep");

    switch (json_typeof(v)) {

    case JSON_OBJECT:
        lua_createtable(L, 0, (int) json_object_size(v));

        json_object_foreach(v, key, item) {
            ngx_rooms_policy_push_json(L, item, depth + 1);
            lua_setfield(L, -2, key);
        }

        break;

    case JSON_ARRAY:
        lua_createtable(L, (int) json_array_size(v), 0);

        json_array_foreach(v, i, item) {
            ngx_rooms_policy_push_json(L, item, depth + 1);
            lua_rawseti(L, -2, (int) i + 1);
        }

        break;

    case JSON_STRING:
        lua_pushlstring(L, json_string_value(v), json_string_length(v));
        break;

    case JSON_INTEGER:
        lua_pushnumber(L, (lua_Number) json_integer_value(v));
        break;

    case JSON_REAL:
        lua_pushnumber(L, json_real_value(v));
        break;

    case JSON_TRUE:
    case JSON_FALSE:
        lua_pushboolean(L, json_is_true(v));
        break;

    default: /* JSON_NULL */
        lua_pushnil(L);
        break;
    }
}


ngx_int_t
ngx_rooms_policy_identify(ngx_http_request_t *r, ngx_rooms_user_t *given,
    ngx_str_t *id, ngx_str_t *name, ngx_array_t *groups)
{
    ngx_rooms_policy_call_t  call;

    ngx_memzero(&call, sizeof(ngx_rooms_policy_call_t));

    call.policy = ngx_rooms_policy_get(r, NGX_ROOMS_HOOK_IDENTIFY);
    if (call.policy == NULL) {
        return NGX_DECLINED;
    }

    call.hook = NGX_ROOMS_HOOK_IDENTIFY;
    call.user = given;
    call.id = id;
    call.name = name;
    call.list = groups;

    ngx_str_null(id);
    ngx_str_null(name);

    if (ngx_rooms_policy_call(r, &call) != NGX_OK) {
        ngx_str_null(id);
        ngx_str_null(name);
        groups->nelts = 0;
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * can_create() or can_join(): NGX_OK with no such hook or when it
 * allows; a refusal (or a failed call) is ngx_rooms_policy_deny()'s
 * answer, with the hook's reason; else the hook's verdict (can_join()'s
 * knock).
 */
static ngx_int_t
ngx_rooms_policy_can(ngx_http_request_t *r, ngx_rooms_hook_e hook,
    ngx_rooms_user_t *u, rooms_room_t *room, ngx_str_t *reason)
{
    ngx_rooms_policy_call_t  call;

    ngx_memzero(&call, sizeof(ngx_rooms_policy_call_t));
    ngx_str_null(reason);

    call.policy = ngx_rooms_policy_get(r, hook);
    if (call.policy == NULL) {
        return NGX_OK;
    }

    call.hook = hook;
    call.user = u;
    call.room = room;

    if (ngx_rooms_policy_call(r, &call) != NGX_OK) {
        return ngx_rooms_policy_deny(r, reason);
    }

    if (call.verdict == NGX_DECLINED) {
        *reason = call.reason;
        return ngx_rooms_policy_deny(r, reason);
    }

    return call.verdict;
}


ngx_int_t
ngx_rooms_policy_can_create(ngx_http_request_t *r, ngx_rooms_user_t *u,
    rooms_room_t *room, ngx_str_t *reason)
{
    return ngx_rooms_policy_can(r, NGX_ROOMS_HOOK_CAN_CREATE, u, room,
                                reason);
}


ngx_int_t
ngx_rooms_policy_can_join(ngx_http_request_t *r, ngx_rooms_user_t *u,
    rooms_room_t *room, ngx_str_t *reason)
{
    return ngx_rooms_policy_can(r, NGX_ROOMS_HOOK_CAN_JOIN, u, room, reason);
}


ngx_int_t
ngx_rooms_policy_people(ngx_http_request_t *r, ngx_rooms_user_t *u,
    ngx_array_t *ids)
{
    ngx_rooms_policy_call_t  call;

    if (u == NULL || u->id.len == 0) {
        return NGX_DECLINED;
    }

    ngx_memzero(&call, sizeof(ngx_rooms_policy_call_t));

    call.policy = ngx_rooms_policy_get(r, NGX_ROOMS_HOOK_PEOPLE);
    if (call.policy == NULL) {
        return NGX_DECLINED;
    }

    call.hook = NGX_ROOMS_HOOK_PEOPLE;
    call.user = u;
    call.list = ids;

    if (ngx_rooms_policy_call(r, &call) != NGX_OK) {
        ids->nelts = 0;
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the policy, when it has this hook; NULL otherwise */
static ngx_rooms_policy_t *
ngx_rooms_policy_get(ngx_http_request_t *r, ngx_rooms_hook_e hook)
{
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_rooms_module);

    if (rmcf->policy == NULL || rmcf->policy->ref[hook] == LUA_NOREF) {
        return NULL;
    }

    return rmcf->policy;
}


/*
 * A refusal's reason: the hook's (already checked), or the general one,
 * zero-terminated in r->pool.  Returns NGX_DECLINED.
 */
static ngx_int_t
ngx_rooms_policy_deny(ngx_http_request_t *r, ngx_str_t *reason)
{
    if (reason->len == 0 || reason->data == NULL) {
        *reason = ngx_rooms_policy_no_reason;
    }

    return NGX_DECLINED;
}


/*
 * Runs one hook under the budget and the cap, with its arguments built
 * and its answers read inside the protected call (a table that cannot be
 * made is a failed call, not a panic).  The state survives whatever
 * happened: its stack is emptied, and a call that left much garbage or
 * blew the cap is followed by a full collection.  NGX_ERROR, logged,
 * when the hook failed or answered with the wrong types.
 */
static ngx_int_t
ngx_rooms_policy_call(ngx_http_request_t *r, ngx_rooms_policy_call_t *call)
{
    int                  rc;
    lua_State           *L;
    const char          *msg;
    ngx_rooms_policy_t  *policy;

    policy = call->policy;
    L = policy->L;
    call->r = r;

    lua_settop(L, 0);
    policy->limit = policy->base + NGX_ROOMS_POLICY_CALL_MEM;

    lua_sethook(L, ngx_rooms_policy_budget, LUA_MASKCOUNT,
                NGX_ROOMS_POLICY_BUDGET);

    rc = lua_cpcall(L, ngx_rooms_policy_run, call);

    lua_sethook(L, NULL, 0, 0);

    if (rc != 0) {
        msg = rc == LUA_ERRMEM ? "its memory cap of 4 MiB is reached"
                               : lua_tostring(L, -1);

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rooms_policy: %s() failed: %s; %s",
                      ngx_rooms_hook_names[call->hook],
                      msg ? msg : "an error without a message",
                      call->hook == NGX_ROOMS_HOOK_IDENTIFY
                      ? "the request is anonymous"
                      : call->hook == NGX_ROOMS_HOOK_PEOPLE
                        ? "no people are listed" : "denied");
    }

    lua_settop(L, 0);

    /* the cap must not count the garbage of the calls before */
    if (rc == LUA_ERRMEM
        || policy->used > policy->base + NGX_ROOMS_POLICY_CALL_MEM / 2)
    {
        policy->limit = policy->base + NGX_ROOMS_POLICY_LOAD_MEM;
        lua_gc(L, LUA_GCCOLLECT, 0);
        policy->limit = policy->base + NGX_ROOMS_POLICY_CALL_MEM;
    }

    if (rc == 0 && call->skipped) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "rooms_policy: %s() listed %ui entries that are not "
                      "strings of 1 to %d bytes, or past the first %d; "
                      "they are ignored", ngx_rooms_hook_names[call->hook],
                      call->skipped,
                      call->hook == NGX_ROOMS_HOOK_PEOPLE
                      ? NGX_ROOMS_USER_ID_MAX : ROOMS_GROUP_ID_MAX,
                      NGX_ROOMS_POLICY_LIST_MAX);
    }

    return rc == 0 ? NGX_OK : NGX_ERROR;
}


/* Under lua_cpcall(): the hook's arguments, the call, its answers. */
static int
ngx_rooms_policy_run(lua_State *L)
{
    int                       nargs;
    ngx_rooms_policy_call_t  *call;

    call = lua_touserdata(L, 1);
    lua_settop(L, 0);

    lua_rawgeti(L, LUA_REGISTRYINDEX, call->policy->ref[call->hook]);

    switch (call->hook) {

    case NGX_ROOMS_HOOK_IDENTIFY:
        ngx_rooms_policy_push_request(L, call->r);
        ngx_rooms_policy_push_user(L, call->user);
        lua_setfield(L, -2, "user");
        nargs = 1;
        break;

    case NGX_ROOMS_HOOK_PEOPLE:
        ngx_rooms_policy_push_user(L, call->user);
        nargs = 1;
        break;

    default: /* CAN_CREATE, CAN_JOIN */
        ngx_rooms_policy_push_user(L, call->user);
        ngx_rooms_policy_push_room(L, call->room);
        nargs = 2;
        break;
    }

    lua_call(L, nargs, 3);

    switch (call->hook) {

    case NGX_ROOMS_HOOK_IDENTIFY:
        ngx_rooms_policy_string(L, 1, call, call->id, "an id");
        ngx_rooms_policy_string(L, 2, call, call->name, "a name");
        ngx_rooms_policy_list(L, 3, call, ROOMS_GROUP_ID_MAX, "groups");
        break;

    case NGX_ROOMS_HOOK_PEOPLE:
        ngx_rooms_policy_list(L, 1, call, NGX_ROOMS_USER_ID_MAX, "ids");
        break;

    default:
        ngx_rooms_policy_verdict(L, call);
        break;
    }

    return 0;
}


/*
 * identify()'s request: method, uri, args, host, remote_addr, headers
 * (lower-case names; a repeated header's values joined by ", ") and
 * cookies (name = value, from every Cookie header); the caller adds
 * user.
 */
static void
ngx_rooms_policy_push_request(lua_State *L, ngx_http_request_t *r)
{
    u_char           *name;
    ngx_uint_t        i, ncookies;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    lua_createtable(L, 0, 8);

    lua_pushlstring(L, (char *) r->method_name.data, r->method_name.len);
    lua_setfield(L, -2, "method");
    lua_pushlstring(L, (char *) r->uri.data, r->uri.len);
    lua_setfield(L, -2, "uri");
    lua_pushlstring(L, (char *) r->args.data, r->args.len);
    lua_setfield(L, -2, "args");

    if (r->headers_in.server.len) {
        lua_pushlstring(L, (char *) r->headers_in.server.data,
                        r->headers_in.server.len);
        lua_setfield(L, -2, "host");
    }

    lua_pushlstring(L, (char *) r->connection->addr_text.data,
                    r->connection->addr_text.len);
    lua_setfield(L, -2, "remote_addr");

    lua_newtable(L);        /* headers */
    lua_newtable(L);        /* cookies */

    ncookies = 0;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0) {
            continue;
        }

        if (h[i].key.len == sizeof("Cookie") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Cookie",
                               sizeof("Cookie") - 1) == 0)
        {
            ngx_rooms_policy_push_cookies(L, &h[i].value, &ncookies);
        }

        name = h[i].lowcase_key;

        lua_pushlstring(L, (char *) name, h[i].key.len);
        lua_pushvalue(L, -1);
        lua_rawget(L, -4);

        if (lua_isstring(L, -1)) {
            lua_pushliteral(L, ", ");
            lua_pushlstring(L, (char *) h[i].value.data, h[i].value.len);
            lua_concat(L, 3);

        } else {
            lua_pop(L, 1);
            lua_pushlstring(L, (char *) h[i].value.data, h[i].value.len);
        }

        lua_rawset(L, -4);
    }

    lua_setfield(L, -3, "cookies");
    lua_setfield(L, -2, "headers");
}


/* "a=1; b=2": each pair into the table at the top of the stack */
static void
ngx_rooms_policy_push_cookies(lua_State *L, ngx_str_t *value, ngx_uint_t *n)
{
    u_char  *p, *last, *start, *eq;

    p = value->data;
    last = p + value->len;

    while (p < last && *n < NGX_ROOMS_POLICY_COOKIES_MAX) {
        while (p < last && (*p == ' ' || *p == ';')) {
            p++;
        }

        start = p;
        eq = NULL;

        while (p < last && *p != ';') {
            if (*p == '=' && eq == NULL) {
                eq = p;
            }

            p++;
        }

        if (eq == NULL || eq == start) {
            continue;
        }

        lua_pushlstring(L, (char *) start, eq - start);
        lua_pushlstring(L, (char *) eq + 1, p - eq - 1);
        lua_rawset(L, -3);
        (*n)++;
    }
}


/* the user: id and name (nil when anonymous, or none), groups (a list) */
static void
ngx_rooms_policy_push_user(lua_State *L, ngx_rooms_user_t *u)
{
    ngx_str_t   *g;
    ngx_uint_t   i;

    lua_createtable(L, 0, 3);

    if (u != NULL && u->id.len) {
        lua_pushlstring(L, (char *) u->id.data, u->id.len);
        lua_setfield(L, -2, "id");
    }

    if (u != NULL && u->name.len) {
        lua_pushlstring(L, (char *) u->name.data, u->name.len);
        lua_setfield(L, -2, "name");
    }

    lua_newtable(L);

    if (u != NULL && u->groups != NULL) {
        g = u->groups->elts;

        for (i = 0; i < u->groups->nelts; i++) {
            lua_pushlstring(L, (char *) g[i].data, g[i].len);
            lua_rawseti(L, -2, (int) i + 1);
        }
    }

    lua_setfield(L, -2, "groups");
}


/*
 * The room as the API describes it: code (once drawn), title, activity,
 * audience, admission, locked, state, max_participants, participants,
 * start_at (Unix seconds).
 */
static void
ngx_rooms_policy_push_room(lua_State *L, rooms_room_t *room)
{
    lua_createtable(L, 0, 10);

    if (room->code[0] != '\0') {
        lua_pushstring(L, room->code);
        lua_setfield(L, -2, "code");
    }

    lua_pushstring(L, room->title);
    lua_setfield(L, -2, "title");

    if (room->activity < rooms_nactivities) {
        lua_pushstring(L, rooms_activities[room->activity].name);
        lua_setfield(L, -2, "activity");
    }

    lua_pushstring(L, room->audience);
    lua_setfield(L, -2, "audience");
    lua_pushstring(L, room->admission == ROOMS_ADMISSION_KNOCK ? "knock"
                                                               : "open");
    lua_setfield(L, -2, "admission");
    lua_pushboolean(L, room->locked);
    lua_setfield(L, -2, "locked");
    lua_pushstring(L, rooms_state(room, ngx_time()));
    lua_setfield(L, -2, "state");
    lua_pushnumber(L, room->max_participants);
    lua_setfield(L, -2, "max_participants");
    lua_pushnumber(L, room->participants);
    lua_setfield(L, -2, "participants");
    lua_pushnumber(L, (lua_Number) room->start_at);
    lua_setfield(L, -2, "start_at");
}


/*
 * can_create() and can_join(): true; false (or nil) and a reason; for
 * can_join, "knock".  Anything else is an error.  A reason that is not
 * one line of printable UTF-8 gives way to the general one; a long one
 * is cut at a character's end.
 */
static void
ngx_rooms_policy_verdict(lua_State *L, ngx_rooms_policy_call_t *call)
{
    size_t       len, chars;
    u_char      *p, *last;
    const char  *s;

    if (lua_isboolean(L, 1) && lua_toboolean(L, 1)) {
        call->verdict = NGX_OK;
        return;
    }

    if (call->hook == NGX_ROOMS_HOOK_CAN_JOIN && lua_type(L, 1) == LUA_TSTRING
        && ngx_strcmp(lua_tostring(L, 1), "knock") == 0)
    {
        call->verdict = NGX_ROOMS_POLICY_KNOCK;
        return;
    }

    if (!lua_isboolean(L, 1)) {
        luaL_error(L, "it returned %s, not true, false%s",
                   lua_isnil(L, 1) ? "nothing" : luaL_typename(L, 1),
                   call->hook == NGX_ROOMS_HOOK_CAN_JOIN ? " or \"knock\""
                                                         : "");
    }

    call->verdict = NGX_DECLINED;

    if (lua_type(L, 2) != LUA_TSTRING) {
        return;
    }

    s = lua_tolstring(L, 2, &len);
    len = rooms_utf8_prefix(s, len, NGX_ROOMS_POLICY_REASON_MAX);

    p = (u_char *) s;
    last = p + len;

    while (p < last) {
        if (*p++ < 0x80) {
            continue;
        }

        p--;

        if (ngx_utf8_decode(&p, last - p) > 0x10ffff) {
            return;
        }
    }

    if (len == 0 || rooms_text_check(s, len, &chars) != 0) {
        return;
    }

    call->reason.data = ngx_pnalloc(call->r->pool, len + 1);
    if (call->reason.data == NULL) {
        luaL_error(L, "out of memory");
    }

    ngx_memcpy(call->reason.data, s, len);
    call->reason.data[len] = '\0';
    call->reason.len = len;
}


/* an optional string result, copied into the request's pool */
static void
ngx_rooms_policy_string(lua_State *L, int idx, ngx_rooms_policy_call_t *call,
    ngx_str_t *s, const char *what)
{
    size_t       len;
    const char  *v;

    if (lua_isnil(L, idx)) {
        return;
    }

    if (lua_type(L, idx) != LUA_TSTRING) {
        luaL_error(L, "it returned %s as %s, not a string or nil",
                   luaL_typename(L, idx), what);
    }

    v = lua_tolstring(L, idx, &len);

    if (len > NGX_ROOMS_POLICY_STRING_MAX) {
        luaL_error(L, "it returned %s of %d bytes, more than %d", what,
                   (int) len, NGX_ROOMS_POLICY_STRING_MAX);
    }

    s->data = ngx_pnalloc(call->r->pool, len);
    if (s->data == NULL && len) {
        luaL_error(L, "out of memory");
    }

    ngx_memcpy(s->data, v, len);
    s->len = len;
}


/*
 * An optional list of strings (a Lua sequence) onto call->list: entries
 * that are not strings of 1 to max bytes, or past the first
 * NGX_ROOMS_POLICY_LIST_MAX, are counted in call->skipped.
 */
static void
ngx_rooms_policy_list(lua_State *L, int idx, ngx_rooms_policy_call_t *call,
    size_t max, const char *what)
{
    size_t       i, n, len;
    ngx_str_t   *s;
    const char  *v;

    if (lua_isnil(L, idx)) {
        return;
    }

    if (!lua_istable(L, idx)) {
        luaL_error(L, "it returned %s as %s, not a list or nil",
                   luaL_typename(L, idx), what);
    }

    n = lua_objlen(L, idx);

    for (i = 1; i <= n; i++) {
        if (call->list->nelts == NGX_ROOMS_POLICY_LIST_MAX) {
            call->skipped += n - i + 1;
            break;
        }

        lua_rawgeti(L, idx, (int) i);

        if (lua_type(L, -1) != LUA_TSTRING) {
            call->skipped++;
            lua_pop(L, 1);
            continue;
        }

        v = lua_tolstring(L, -1, &len);

        if (len == 0 || len > max) {
            call->skipped++;
            lua_pop(L, 1);
            continue;
        }

        s = ngx_array_push(call->list);
        if (s == NULL) {
            luaL_error(L, "out of memory");
        }

        s->data = ngx_pnalloc(call->r->pool, len);
        if (s->data == NULL) {
            luaL_error(L, "out of memory");
        }

        ngx_memcpy(s->data, v, len);
        s->len = len;

        lua_pop(L, 1);
    }
}
