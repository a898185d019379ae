/*
 * Bad inputs through the C ABI: every call returns its status and leaves a message; nothing
 * crashes and nothing is written on failure. Exit status 0 when every expectation holds.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "kalsim.h"

static int failures = 0;

static void expect(const char *what, kalsim_status got, kalsim_status want) {
    const char *message = kalsim_last_error();
    if (message == NULL) {
        printf("FAIL %s: kalsim_last_error() returned NULL\n", what);
        failures++;
        return;
    }
    if (got != want) {
        printf("FAIL %s: got %u (%s), want %u (%s); last error: %s\n", what, (unsigned)got,
               kalsim_status_str(got), (unsigned)want, kalsim_status_str(want), message);
        failures++;
        return;
    }
    if (want != KALSIM_STATUS_OK && message[0] == '\0') {
        printf("FAIL %s: empty message\n", what);
        failures++;
        return;
    }
    printf("ok   %-44s %-36s %s\n", what, kalsim_status_str(got),
           want == KALSIM_STATUS_OK ? "" : message);
}

/* The last error names `needle` and `length` (a short-buffer message). */
static void expect_message(const char *what, const char *needle, const char *length) {
    const char *message = kalsim_last_error();
    if (strstr(message, needle) == NULL || strstr(message, length) == NULL) {
        printf("FAIL %s: message \"%s\" lacks %s or %s\n", what, message, needle, length);
        failures++;
    }
}

/* Names and counts come from the library; the header's constants agree. */
static void check_names(void) {
    if (kalsim_action_count() != KALSIM_ACTION_COUNT || kalsim_tier_count() != KALSIM_TIER_COUNT ||
        kalsim_intent_count() != KALSIM_INTENT_COUNT ||
        kalsim_invalid_action_max_code() != KALSIM_INVALID_ACTION_MAX_CODE) {
        printf("FAIL counts differ from the header's constants\n");
        failures++;
    }
    if (strcmp(kalsim_tier_name(0), "Small") != 0 || strcmp(kalsim_tier_name(4), "Giant") != 0 ||
        kalsim_tier_name(KALSIM_TIER_COUNT) != NULL) {
        printf("FAIL tier names\n");
        failures++;
    }
    if (strcmp(kalsim_intent_name(0), "HOLD") != 0 || strcmp(kalsim_intent_name(3), "BUY_NO") != 0 ||
        kalsim_intent_name(KALSIM_INTENT_COUNT) != NULL) {
        printf("FAIL intent names\n");
        failures++;
    }
    if (strcmp(kalsim_invalid_action_name(0), "none") != 0 ||
        strcmp(kalsim_invalid_action_name(KALSIM_INVALID_ACTION_MAX_CODE), "reserved") != 0 ||
        strcmp(kalsim_invalid_action_name(KALSIM_INVALID_ACTION_MAX_CODE + 1), "unknown") != 0 ||
        strcmp(kalsim_invalid_action_name(4294967295u), "unknown") != 0) {
        printf("FAIL invalid-action names\n");
        failures++;
    }
    /* The layout the library describes is the one this compiler sees. */
    size_t size = 0, count = 0;
    kalsim_field field;
    if (kalsim_struct_layout(KALSIM_STRUCT_ID_STEP_INFO, &size, &count) != KALSIM_STATUS_OK ||
        size != sizeof(kalsim_step_info) ||
        kalsim_struct_field(KALSIM_STRUCT_ID_STEP_INFO, 3, &field) != KALSIM_STATUS_OK ||
        strcmp(field.name, "cash_cents") != 0 || field.offset != offsetof(kalsim_step_info, cash_cents) ||
        field.kind != KALSIM_FIELD_KIND_I64) {
        printf("FAIL kalsim_step_info layout\n");
        failures++;
    }
    if (kalsim_struct_layout(KALSIM_STRUCT_ID_VEC_STEP_BUFFERS, &size, &count) != KALSIM_STATUS_OK ||
        size != sizeof(kalsim_vec_step_buffers) || count != 12) {
        printf("FAIL kalsim_vec_step_buffers layout\n");
        failures++;
    }
    expect("struct_layout(unknown id)", kalsim_struct_layout(kalsim_struct_count(), &size, &count),
           KALSIM_STATUS_INVALID_ARGUMENT);
    expect("struct_field(index past the end)", kalsim_struct_field(KALSIM_STRUCT_ID_STEP, 99, &field),
           KALSIM_STATUS_INVALID_ARGUMENT);
}

int main(void) {
    float obs[KALSIM_OBS_DIM];
    uint8_t mask[KALSIM_ACTION_COUNT];
    kalsim_step step;
    kalsim_metrics metrics;
    kalsim_env *env = NULL;
    kalsim_vec_env *venv = NULL;
    uint8_t intent = 99, tier = 99, code = 99, byte = 99;
    int64_t fee = -1;

    /* Static strings are never NULL. */
    for (uint32_t s = 0; s < 20; s++) {
        if (kalsim_status_str(s) == NULL) {
            printf("FAIL kalsim_status_str(%u) is NULL\n", s);
            failures++;
        }
    }
    if (kalsim_obs_feature_name(KALSIM_OBS_DIM) != NULL) {
        printf("FAIL feature name past the end is not NULL\n");
        failures++;
    }

    check_names();

    /* NULL handles and out-pointers. */
    expect("env_new(out = NULL)", kalsim_env_new(NULL, NULL), KALSIM_STATUS_NULL_POINTER);
    expect("env_reset(env = NULL)", kalsim_env_reset(NULL, 1, obs, KALSIM_OBS_DIM), KALSIM_STATUS_NULL_POINTER);
    expect("env_step(env = NULL)", kalsim_env_step(NULL, 0, &step, obs, KALSIM_OBS_DIM), KALSIM_STATUS_NULL_POINTER);
    expect("env_action_mask(env = NULL)", kalsim_env_action_mask(NULL, mask, KALSIM_ACTION_COUNT), KALSIM_STATUS_NULL_POINTER);
    expect("env_metrics(env = NULL)", kalsim_env_metrics(NULL, &metrics), KALSIM_STATUS_NULL_POINTER);
    expect("vec_env_step(venv = NULL)", kalsim_vec_env_step(NULL, NULL),
           KALSIM_STATUS_NULL_POINTER);
    expect("decode_action(out = NULL)", kalsim_decode_action(1, NULL, &tier), KALSIM_STATUS_NULL_POINTER);
    kalsim_env_free(NULL);
    kalsim_vec_env_free(NULL);

    /* Malformed configuration and missing data: no handle is written. */
    env = (kalsim_env *)&byte; /* a sentinel that must survive the failures */
    expect("env_new(malformed JSON)", kalsim_env_new("{\"sizes\": [5, 10,", &env), KALSIM_STATUS_CONFIG);
    expect("env_new(unknown key)", kalsim_env_new("{\"no_such_key\": 1}", &env), KALSIM_STATUS_CONFIG);
    expect("env_new(sizes not increasing)", kalsim_env_new("{\"sizes\": [5, 5, 20, 50, 100]}", &env),
           KALSIM_STATUS_CONFIG);
    expect("env_new(missing data file)",
           kalsim_env_new("{\"data\": {\"files\": [\"/nonexistent/kalsim/capture.jsonl\"]}}", &env),
           KALSIM_STATUS_DATA);
    expect("vec_env_new(n = 0)", kalsim_vec_env_new(NULL, 0, 1, &venv), KALSIM_STATUS_INVALID_ARGUMENT);
    if (env != (kalsim_env *)&byte || venv != NULL) {
        printf("FAIL a handle was written on failure\n");
        failures++;
    }

    /* A real environment: order and range errors. */
    env = NULL;
    expect("env_new(small synthetic)",
           kalsim_env_new("{\"data\": {\"synthetic_markets\": 2, \"synthetic_events\": 50}}", &env),
           KALSIM_STATUS_OK);
    expect("env_step before reset", kalsim_env_step(env, 0, &step, obs, KALSIM_OBS_DIM), KALSIM_STATUS_NOT_RESET);
    expect("env_reset(obs_out = NULL)", kalsim_env_reset(env, 1, NULL, KALSIM_OBS_DIM), KALSIM_STATUS_NULL_POINTER);
    expect("env_reset", kalsim_env_reset(env, 1, obs, KALSIM_OBS_DIM), KALSIM_STATUS_OK);

    /* Short buffers: KALSIM_STATUS_BUFFER naming the buffer and both lengths, nothing moves. */
    kalsim_step_info before, after;
    kalsim_env_info(env, &before);
    expect("env_reset(obs_len 39)", kalsim_env_reset(env, 2, obs, KALSIM_OBS_DIM - 1), KALSIM_STATUS_BUFFER);
    expect_message("env_reset(obs_len 39)", "`obs_out`", "39");
    expect("env_step(obs_len 0)", kalsim_env_step(env, 1, &step, obs, 0), KALSIM_STATUS_BUFFER);
    kalsim_env_info(env, &after);
    if (before.step != after.step || before.event_index != after.event_index ||
        before.market_index != after.market_index) {
        printf("FAIL a short buffer moved the environment\n");
        failures++;
    }
    expect("env_action_mask(mask_len 24)", kalsim_env_action_mask(env, mask, KALSIM_ACTION_COUNT - 1),
           KALSIM_STATUS_BUFFER);
    expect_message("env_action_mask(mask_len 24)", "`mask_out`", "25");
    uint32_t sizes[KALSIM_TIER_COUNT + 1] = {0};
    expect("env_size_table(out_len 4)", kalsim_env_size_table(env, sizes, KALSIM_TIER_COUNT - 1),
           KALSIM_STATUS_BUFFER);
    expect("size_table(out_len 4)", kalsim_size_table(sizes, KALSIM_TIER_COUNT - 1), KALSIM_STATUS_BUFFER);
    sizes[KALSIM_TIER_COUNT] = 777;
    expect("size_table(out_len 6)", kalsim_size_table(sizes, KALSIM_TIER_COUNT + 1), KALSIM_STATUS_OK);
    if (sizes[KALSIM_TIER_COUNT] != 777) {
        printf("FAIL size_table wrote past the table\n");
        failures++;
    }
    expect("env_step(action 25)", kalsim_env_step(env, 25, &step, obs, KALSIM_OBS_DIM), KALSIM_STATUS_INVALID_ACTION);
    expect("env_step(action 4294967295)", kalsim_env_step(env, 4294967295u, &step, obs, KALSIM_OBS_DIM),
           KALSIM_STATUS_INVALID_ACTION);
    expect("env_step(reserved 22) runs as HOLD", kalsim_env_step(env, 22, &step, obs, KALSIM_OBS_DIM), KALSIM_STATUS_OK);
    if (step.info.invalid_action != 8) {
        printf("FAIL reserved action: invalid_action = %u, want 8\n", step.info.invalid_action);
        failures++;
    }
    while (!step.terminated && !step.truncated) {
        kalsim_env_step(env, 0, &step, obs, KALSIM_OBS_DIM);
    }
    expect("env_step after the episode ended", kalsim_env_step(env, 0, &step, obs, KALSIM_OBS_DIM),
           KALSIM_STATUS_EPISODE_OVER);
    kalsim_env_free(env);

    /* Strict mode: reserved and masked actions are errors. */
    env = NULL;
    expect("env_new(strict)",
           kalsim_env_new("{\"invalid_action\": \"error\", \"initial_cash_cents\": 5000,"
                          " \"data\": {\"synthetic_markets\": 1, \"synthetic_events\": 50}}",
                          &env),
           KALSIM_STATUS_OK);
    expect("strict env_reset", kalsim_env_reset(env, 3, obs, KALSIM_OBS_DIM), KALSIM_STATUS_OK);
    expect("strict env_step(reserved 21)", kalsim_env_step(env, 21, &step, obs, KALSIM_OBS_DIM), KALSIM_STATUS_RESERVED_ACTION);
    expect("strict env_step(masked BUY_YES Giant)", kalsim_env_step(env, 5, &step, obs, KALSIM_OBS_DIM),
           KALSIM_STATUS_MASKED_ACTION);
    kalsim_env_free(env);

    /* Core primitives. */
    expect("encode_action(intent 5)", kalsim_encode_action(5, 0, &byte), KALSIM_STATUS_INVALID_ARGUMENT);
    expect("encode_action(tier 9)", kalsim_encode_action(1, 9, &byte), KALSIM_STATUS_INVALID_ARGUMENT);
    expect("encode_action(BUY_NO, Huge)", kalsim_encode_action(3, 3, &byte), KALSIM_STATUS_OK);
    if (byte != 14) {
        printf("FAIL encode(BUY_NO, Huge) = %u, want 14\n", byte);
        failures++;
    }
    expect("decode_action(reserved 23)", kalsim_decode_action(23, &intent, &tier), KALSIM_STATUS_RESERVED_ACTION);
    expect("decode_action(25)", kalsim_decode_action(25, &intent, &tier), KALSIM_STATUS_INVALID_ACTION);
    if (intent != 99 || tier != 99) {
        printf("FAIL decode wrote outputs on failure\n");
        failures++;
    }
    expect("decode_action(20)", kalsim_decode_action(20, &intent, &tier), KALSIM_STATUS_OK);
    if (intent != 4 || tier != 4) {
        printf("FAIL decode(20) = (%u, %u), want (4, 4)\n", intent, tier);
        failures++;
    }
    expect("validate_order(price 0)", kalsim_validate_order(10, 0, 100000, 0, &code), KALSIM_STATUS_INVALID_ARGUMENT);
    expect("validate_order(price 100)", kalsim_validate_order(10, 0, 100000, 100, &code),
           KALSIM_STATUS_INVALID_ARGUMENT);
    expect("validate_order(600 contracts)", kalsim_validate_order(600, 0, 10000000, 10, &code), KALSIM_STATUS_OK);
    if (code != 1) {
        printf("FAIL validate_order(600) reason %u (%s), want 1\n", code, kalsim_invalid_action_name(code));
        failures++;
    }
    expect("taker_fee(price 0)", kalsim_taker_fee_cents(10, 0, &fee), KALSIM_STATUS_INVALID_ARGUMENT);
    expect("taker_fee(100 @ 50)", kalsim_taker_fee_cents(100, 50, &fee), KALSIM_STATUS_OK);
    if (fee != 175) {
        printf("FAIL taker fee 100 @ 50c = %lld, want 175\n", (long long)fee);
        failures++;
    }
    kalsim_obs_feature feature;
    expect("obs_feature_info(32)", kalsim_obs_feature_info(KALSIM_OBS_DIM, &feature), KALSIM_STATUS_INVALID_ARGUMENT);

    /* Vector env: wrong info length, bad action rejected before any env moves. */
    expect("vec_env_new(n = 2)",
           kalsim_vec_env_new("{\"data\": {\"synthetic_markets\": 2, \"synthetic_events\": 50}}", 2, 2, &venv),
           KALSIM_STATUS_OK);
    float vobs[2 * KALSIM_OBS_DIM];
    uint8_t vmask[2 * KALSIM_ACTION_COUNT], term[2], trunc[2];
    double rewards[2];
    uint32_t actions[2] = {0, 99};
    kalsim_step_info infos[3];
    kalsim_vec_step_buffers buffers = {actions, 2, vobs, 2 * KALSIM_OBS_DIM, rewards, 2, term, 2, trunc, 2,
                                       vmask, 2 * KALSIM_ACTION_COUNT};
    expect("vec_env_reset", kalsim_vec_env_reset(venv, 7, vobs, 2 * KALSIM_OBS_DIM, vmask, 2 * KALSIM_ACTION_COUNT), KALSIM_STATUS_OK);
    expect("vec_env_reset(obs_len N*D-1)",
           kalsim_vec_env_reset(venv, 7, vobs, 2 * KALSIM_OBS_DIM - 1, vmask, 2 * KALSIM_ACTION_COUNT),
           KALSIM_STATUS_BUFFER);
    expect("vec_env_reset(masks_len N*25-1)",
           kalsim_vec_env_reset(venv, 7, vobs, 2 * KALSIM_OBS_DIM, vmask, 2 * KALSIM_ACTION_COUNT - 1),
           KALSIM_STATUS_BUFFER);
    expect_message("vec_env_reset(masks_len N*25-1)", "`masks_out`", "49");
    expect("vec_env_step(buffers = NULL)", kalsim_vec_env_step(venv, NULL), KALSIM_STATUS_NULL_POINTER);
    expect("vec_env_step(action 99)", kalsim_vec_env_step(venv, &buffers), KALSIM_STATUS_INVALID_ACTION);
    actions[1] = 0;
    buffers.actions_len = 1;
    expect("vec_env_step(actions_len 1)", kalsim_vec_env_step(venv, &buffers), KALSIM_STATUS_BUFFER);
    expect_message("vec_env_step(actions_len 1)", "`actions`", "1 given");
    buffers.actions_len = 2;
    buffers.rewards_len = 1;
    expect("vec_env_step(rewards_len 1)", kalsim_vec_env_step(venv, &buffers), KALSIM_STATUS_BUFFER);
    expect_message("vec_env_step(rewards_len 1)", "`rewards_out`", "2 elements required");
    buffers.rewards_len = 2;
    buffers.truncated_out = NULL;
    expect("vec_env_step(truncated_out = NULL)", kalsim_vec_env_step(venv, &buffers), KALSIM_STATUS_NULL_POINTER);
    buffers.truncated_out = trunc;
    expect("vec_env_step", kalsim_vec_env_step(venv, &buffers), KALSIM_STATUS_OK);
    expect("vec_env_infos(len 1)", kalsim_vec_env_infos(venv, infos, 1), KALSIM_STATUS_BUFFER);
    expect("vec_env_infos(len 3)", kalsim_vec_env_infos(venv, infos, 3), KALSIM_STATUS_OK);
    expect("vec_env_metrics(index 2)", kalsim_vec_env_metrics(venv, 2, &metrics), KALSIM_STATUS_INVALID_ARGUMENT);
    kalsim_vec_env_free(venv);

    if (failures) {
        printf("%d failure(s)\n", failures);
        return 1;
    }
    printf("all bad-input checks passed\n");
    return 0;
}
