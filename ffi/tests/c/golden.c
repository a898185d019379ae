/*
 * Replay golden vectors (format "kalsim-golden" v1) through the C ABI and compare bit for
 * bit: observation f32 bit patterns, rewards exactly, flags, masks and every info field.
 *
 *   golden FILE.json...        exit 0 when every file matches
 *
 * Carries a minimal JSON reader (the vectors are trusted test data, but malformed input is
 * reported, not crashed on). The config object is passed to kalsim_env_new as its source text.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kalsim.h"

/* ---- a minimal JSON DOM ---------------------------------------------------------- */

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jval {
    jtype type;
    const char *start; /* source span, for numbers and the config object */
    size_t len;
    size_t count;         /* arrays and objects */
    struct jval *items;   /* children */
    char **keys;          /* object keys (NUL-terminated copies) */
    int boolean;
} jval;

typedef struct {
    const char *p;
    const char *end;
    const char *error;
} jparser;

static void skip_ws(jparser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t')) {
        ps->p++;
    }
}

static int parse_value(jparser *ps, jval *out, int depth);

static char *parse_string(jparser *ps) {
    /* Keys and strings in vectors are plain ASCII; escapes are kept verbatim. */
    if (ps->p >= ps->end || *ps->p != '"') {
        ps->error = "expected a string";
        return NULL;
    }
    const char *s = ++ps->p;
    while (ps->p < ps->end && *ps->p != '"') {
        if (*ps->p == '\\') {
            ps->p++;
        }
        ps->p++;
    }
    if (ps->p >= ps->end) {
        ps->error = "unterminated string";
        return NULL;
    }
    size_t n = (size_t)(ps->p - s);
    char *copy = malloc(n + 1);
    if (copy == NULL) {
        ps->error = "out of memory";
        return NULL;
    }
    memcpy(copy, s, n);
    copy[n] = '\0';
    ps->p++;
    return copy;
}

static int push(jval *parent, size_t *cap, int with_key) {
    if (parent->count == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        jval *items = realloc(parent->items, *cap * sizeof(jval));
        if (items == NULL) {
            return 0;
        }
        parent->items = items;
        if (with_key) {
            char **keys = realloc(parent->keys, *cap * sizeof(char *));
            if (keys == NULL) {
                return 0;
            }
            parent->keys = keys;
        }
    }
    memset(&parent->items[parent->count], 0, sizeof(jval));
    return 1;
}

static int parse_value(jparser *ps, jval *out, int depth) {
    memset(out, 0, sizeof *out);
    skip_ws(ps);
    if (depth > 64 || ps->p >= ps->end) {
        ps->error = depth > 64 ? "nesting too deep" : "unexpected end of input";
        return 0;
    }
    out->start = ps->p;
    char c = *ps->p;
    if (c == '{' || c == '[') {
        int is_obj = c == '{';
        size_t cap = 0;
        out->type = is_obj ? J_OBJ : J_ARR;
        ps->p++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == (is_obj ? '}' : ']')) {
            ps->p++;
        } else {
            for (;;) {
                if (!push(out, &cap, is_obj)) {
                    ps->error = "out of memory";
                    return 0;
                }
                if (is_obj) {
                    skip_ws(ps);
                    out->keys[out->count] = parse_string(ps);
                    if (out->keys[out->count] == NULL) {
                        return 0;
                    }
                    skip_ws(ps);
                    if (ps->p >= ps->end || *ps->p != ':') {
                        out->count++;
                        ps->error = "expected ':'";
                        return 0;
                    }
                    ps->p++;
                }
                int ok = parse_value(ps, &out->items[out->count], depth + 1);
                out->count++;
                if (!ok) {
                    return 0;
                }
                skip_ws(ps);
                if (ps->p < ps->end && *ps->p == ',') {
                    ps->p++;
                    continue;
                }
                if (ps->p < ps->end && *ps->p == (is_obj ? '}' : ']')) {
                    ps->p++;
                    break;
                }
                ps->error = "expected ',' or a closing bracket";
                return 0;
            }
        }
    } else if (c == '"') {
        out->type = J_STR;
        char *s = parse_string(ps);
        if (s == NULL) {
            return 0;
        }
        free(s);
    } else if (strncmp(ps->p, "true", 4) == 0 || strncmp(ps->p, "false", 5) == 0) {
        out->type = J_BOOL;
        out->boolean = c == 't';
        ps->p += out->boolean ? 4 : 5;
    } else if (strncmp(ps->p, "null", 4) == 0) {
        out->type = J_NULL;
        ps->p += 4;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        out->type = J_NUM;
        while (ps->p < ps->end && strchr("+-0123456789.eE", *ps->p) != NULL) {
            ps->p++;
        }
    } else {
        ps->error = "unexpected character";
        return 0;
    }
    out->len = (size_t)(ps->p - out->start);
    return 1;
}

static void free_value(jval *v) {
    for (size_t i = 0; i < v->count; i++) {
        free_value(&v->items[i]);
        if (v->keys) {
            free(v->keys[i]);
        }
    }
    free(v->items);
    free(v->keys);
}

static const jval *get(const jval *obj, const char *key) {
    if (obj == NULL || obj->type != J_OBJ) {
        return NULL;
    }
    for (size_t i = 0; i < obj->count; i++) {
        if (strcmp(obj->keys[i], key) == 0) {
            return &obj->items[i];
        }
    }
    return NULL;
}

/* Number text into a bounded buffer (the source is not NUL-terminated per value). */
static void num_text(const jval *v, char buf[64]) {
    size_t n = v->len < 63 ? v->len : 63;
    memcpy(buf, v->start, n);
    buf[n] = '\0';
}

static double as_double(const jval *v) {
    char buf[64];
    if (v == NULL || v->type != J_NUM) {
        return 0.0;
    }
    num_text(v, buf);
    return strtod(buf, NULL);
}

static long long as_int(const jval *v) {
    char buf[64];
    if (v == NULL) {
        return 0;
    }
    if (v->type == J_BOOL) {
        return v->boolean;
    }
    if (v->type != J_NUM) {
        return 0;
    }
    num_text(v, buf);
    return strtoll(buf, NULL, 10);
}

static unsigned long long as_uint(const jval *v) {
    char buf[64];
    if (v == NULL || v->type != J_NUM) {
        return 0;
    }
    num_text(v, buf);
    return strtoull(buf, NULL, 10);
}

/* ---- replay ------------------------------------------------------------------------ */

/* The info fields as the library describes them (kalsim_struct_field): name, offset, kind.
 * Nothing here restates the field list; a field the library adds is compared too. */
#define MAX_INFO_FIELDS 64
static kalsim_field INFO_FIELDS[MAX_INFO_FIELDS];
static size_t INFO_FIELD_COUNT;

static int load_info_fields(void) {
    size_t size = 0;
    if (kalsim_struct_layout(KALSIM_STRUCT_ID_STEP_INFO, &size, &INFO_FIELD_COUNT) != KALSIM_STATUS_OK ||
        size != sizeof(kalsim_step_info) || INFO_FIELD_COUNT > MAX_INFO_FIELDS) {
        printf("ERROR kalsim_step_info: the library's layout (%zu bytes) is not this header's (%zu)\n", size,
               sizeof(kalsim_step_info));
        return 0;
    }
    for (size_t f = 0; f < INFO_FIELD_COUNT; f++) {
        if (kalsim_struct_field(KALSIM_STRUCT_ID_STEP_INFO, f, &INFO_FIELDS[f]) != KALSIM_STATUS_OK) {
            printf("ERROR kalsim_struct_field(%zu): %s\n", f, kalsim_last_error());
            return 0;
        }
    }
    return 1;
}

static int mismatches;

static void mismatch(const char *file, const char *where, const char *what) {
    if (mismatches < 20) {
        printf("MISMATCH %s: %s: %s\n", file, where, what);
    }
    mismatches++;
}

static void compare(const char *file, const char *where, const jval *want, const float *obs,
                    const uint8_t *mask, const kalsim_step_info *info) {
    char msg[256];
    const jval *bits = get(want, "obs_bits");
    if (bits != NULL) {
        if (bits->type != J_ARR || bits->count != KALSIM_OBS_DIM) {
            mismatch(file, where, "obs_bits is not an array of KALSIM_OBS_DIM numbers");
        } else {
            for (size_t i = 0; i < KALSIM_OBS_DIM; i++) {
                uint32_t got;
                memcpy(&got, &obs[i], sizeof got);
                if ((unsigned long long)got != as_uint(&bits->items[i])) {
                    snprintf(msg, sizeof msg, "obs[%zu] bits 0x%08x, want 0x%08llx", i, got,
                             as_uint(&bits->items[i]));
                    mismatch(file, where, msg);
                }
            }
        }
    }
    const jval *m = get(want, "mask");
    if (m != NULL) {
        for (size_t i = 0; i < KALSIM_ACTION_COUNT; i++) {
            if (m->type != J_ARR || m->count != KALSIM_ACTION_COUNT || mask[i] != as_int(&m->items[i])) {
                snprintf(msg, sizeof msg, "mask[%zu] differs", i);
                mismatch(file, where, msg);
                break;
            }
        }
    }
    const jval *want_info = get(want, "info");
    for (size_t k = 0; want_info != NULL && k < want_info->count; k++) {
        size_t f = 0;
        while (f < INFO_FIELD_COUNT && strcmp(INFO_FIELDS[f].name, want_info->keys[k]) != 0) {
            f++;
        }
        if (f == INFO_FIELD_COUNT) {
            snprintf(msg, sizeof msg, "info.%s is not reported by kalsim_step_info", want_info->keys[k]);
            mismatch(file, where, msg);
        }
    }
    for (size_t f = 0; want_info != NULL && f < INFO_FIELD_COUNT; f++) {
        const jval *w = get(want_info, INFO_FIELDS[f].name);
        if (w == NULL) {
            continue;
        }
        const char *base = (const char *)info + INFO_FIELDS[f].offset;
        int equal;
        switch (INFO_FIELDS[f].kind) {
        case KALSIM_FIELD_KIND_U8: {
            uint8_t v;
            memcpy(&v, base, sizeof v);
            equal = (long long)v == as_int(w);
            break;
        }
        case KALSIM_FIELD_KIND_U32: {
            uint32_t v;
            memcpy(&v, base, sizeof v);
            equal = (long long)v == as_int(w);
            break;
        }
        case KALSIM_FIELD_KIND_I64: {
            int64_t v;
            memcpy(&v, base, sizeof v);
            equal = (long long)v == as_int(w);
            break;
        }
        case KALSIM_FIELD_KIND_F64: {
            double v;
            memcpy(&v, base, sizeof v);
            equal = v == as_double(w);
            break;
        }
        default:
            snprintf(msg, sizeof msg, "info.%s has a field kind %u this replayer does not read",
                     INFO_FIELDS[f].name, (unsigned)INFO_FIELDS[f].kind);
            mismatch(file, where, msg);
            continue;
        }
        if (!equal) {
            snprintf(msg, sizeof msg, "info.%s differs", INFO_FIELDS[f].name);
            mismatch(file, where, msg);
        }
    }
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) {
            break;
        }
        char *bigger = realloc(buf, cap * 2);
        if (bigger == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    fclose(f);
    *len = n;
    return buf;
}

static int replay(const char *file) {
    size_t len = 0;
    char *text = read_file(file, &len);
    if (text == NULL) {
        printf("ERROR %s: cannot read\n", file);
        return 0;
    }
    jparser ps = {text, text + len, NULL};
    jval root;
    int ok = parse_value(&ps, &root, 0);
    if (!ok) {
        printf("ERROR %s: JSON: %s at byte %ld\n", file, ps.error, (long)(ps.p - text));
        free_value(&root);
        free(text);
        return 0;
    }
    int before = mismatches;
    const jval *config = get(&root, "config");
    const jval *reset = get(&root, "reset");
    const jval *steps = get(&root, "steps");
    char *config_text = NULL;
    if (config != NULL && config->type == J_OBJ) {
        config_text = malloc(config->len + 1);
        if (config_text != NULL) {
            memcpy(config_text, config->start, config->len);
            config_text[config->len] = '\0';
        }
    }
    kalsim_env *env = NULL;
    kalsim_status st = kalsim_env_new(config_text, &env);
    if (st != KALSIM_STATUS_OK || reset == NULL || steps == NULL || steps->type != J_ARR) {
        printf("ERROR %s: %s\n", file,
               st != KALSIM_STATUS_OK ? kalsim_last_error() : "missing reset or steps");
        free(config_text);
        free_value(&root);
        free(text);
        kalsim_env_free(env);
        return 0;
    }
    float obs[KALSIM_OBS_DIM];
    uint8_t mask[KALSIM_ACTION_COUNT];
    kalsim_step_info info;
    kalsim_step step;
    if (kalsim_env_reset(env, (uint64_t)as_uint(get(&root, "seed")), obs, KALSIM_OBS_DIM) != KALSIM_STATUS_OK ||
        kalsim_env_action_mask(env, mask, KALSIM_ACTION_COUNT) != KALSIM_STATUS_OK || kalsim_env_info(env, &info) != KALSIM_STATUS_OK) {
        mismatch(file, "reset", kalsim_last_error());
    } else {
        compare(file, "reset", reset, obs, mask, &info);
    }
    for (size_t i = 0; i < steps->count && mismatches - before < 20; i++) {
        const jval *s = &steps->items[i];
        char where[64];
        snprintf(where, sizeof where, "step %zu", i);
        st = kalsim_env_step(env, (uint32_t)as_uint(get(s, "action")), &step, obs, KALSIM_OBS_DIM);
        if (st != KALSIM_STATUS_OK || kalsim_env_action_mask(env, mask, KALSIM_ACTION_COUNT) != KALSIM_STATUS_OK) {
            mismatch(file, where, kalsim_last_error());
            break;
        }
        const jval *r = get(s, "reward");
        if (r != NULL && step.reward != as_double(r)) {
            mismatch(file, where, "reward differs");
        }
        const jval *t = get(s, "terminated");
        if (t != NULL && (int)step.terminated != (int)as_int(t)) {
            mismatch(file, where, "terminated differs");
        }
        t = get(s, "truncated");
        if (t != NULL && (int)step.truncated != (int)as_int(t)) {
            mismatch(file, where, "truncated differs");
        }
        compare(file, where, s, obs, mask, &step.info);
    }
    printf("%s %s (%zu steps)\n", mismatches == before ? "ok  " : "FAIL", file, steps->count);
    kalsim_env_free(env);
    free(config_text);
    free_value(&root);
    free(text);
    return mismatches == before;
}

int main(int argc, char **argv) {
    int failed = 0;
    if (!load_info_fields()) {
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        failed += !replay(argv[i]);
    }
    return failed ? 1 : 0;
}
