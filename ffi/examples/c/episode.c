/*
 * kalsim from C: one episode with action masks, a seeded random valid action each step,
 * then the SPEC §9 metrics.
 *
 *   episode [--seed N] [--config JSON] [--bench STEPS]
 *
 * --bench runs STEPS steps (resetting as episodes end) and prints steps per second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kalsim.h"

#define CHECK(call)                                                                  \
    do {                                                                             \
        kalsim_status check_status_ = (call);                                        \
        if (check_status_ != KALSIM_STATUS_OK) {                                     \
            fprintf(stderr, "%s failed: %s (%s)\n", #call,                           \
                    kalsim_status_str(check_status_), kalsim_last_error());          \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

/* xorshift64*: a tiny deterministic generator for picking actions. */
static uint64_t next_random(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* A uniformly drawn allowed action; HOLD is always allowed. */
static uint32_t random_valid_action(const uint8_t mask[KALSIM_ACTION_COUNT], uint64_t *rng) {
    uint32_t allowed[KALSIM_ACTION_COUNT];
    uint32_t count = 0;
    for (uint32_t a = 0; a < KALSIM_ACTION_COUNT; a++) {
        if (mask[a]) {
            allowed[count++] = a;
        }
    }
    return count == 0 ? 0 : allowed[next_random(rng) % count];
}

static void print_metrics(const kalsim_metrics *m, const uint32_t sizes[KALSIM_TIER_COUNT]) {
    printf("steps                      %llu\n", (unsigned long long)m->steps);
    printf("total_return               %.6f\n", m->total_return);
    printf("sharpe                     %.6f\n", m->sharpe);
    printf("max_drawdown               %.6f\n", m->max_drawdown);
    printf("win_rate                   %.4f\n", m->win_rate);
    printf("fees_paid_cents            %lld\n", (long long)m->fees_cents);
    printf("hold_fraction              %.4f\n", m->hold_fraction);
    printf("size_efficiency            %.4f\n", m->size_efficiency);
    printf("position_size_distribution {");
    for (int t = 0; t < KALSIM_TIER_COUNT; t++) {
        printf("%s%u: %llu", t ? ", " : "", sizes[t], (unsigned long long)m->fills_per_tier[t]);
    }
    printf("}\n");
    printf("avg_winning_position_size  %.2f\n", m->avg_winning_position_size);
    printf("avg_losing_position_size   %.2f\n", m->avg_losing_position_size);
    printf("avg_position_size          %.2f\n", m->avg_position_size);
    printf("max_position_reached       %llu\n", (unsigned long long)m->max_position_reached);
    printf("size_changes_per_episode   %llu\n", (unsigned long long)m->size_changes);
    printf("invalid_actions            %llu\n", (unsigned long long)m->invalid_actions);
    printf("round_trips                %llu\n", (unsigned long long)m->round_trips);
    printf("action_histogram           [");
    for (int a = 0; a < KALSIM_ACTION_COUNT; a++) {
        printf("%s%llu", a ? " " : "", (unsigned long long)m->action_histogram[a]);
    }
    printf("]\n");
}

static double now_seconds(void) {
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    uint64_t seed = 42;
    const char *config = NULL;
    long long bench_steps = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else if (strcmp(argv[i], "--bench") == 0 && i + 1 < argc) {
            bench_steps = strtoll(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: %s [--seed N] [--config JSON] [--bench STEPS]\n", argv[0]);
            return 2;
        }
    }
    if (kalsim_abi_version() != KALSIM_ABI_VERSION) {
        fprintf(stderr, "ABI mismatch: header %d, library %u\n", KALSIM_ABI_VERSION,
                kalsim_abi_version());
        return 1;
    }

    kalsim_env *env = NULL;
    CHECK(kalsim_env_new(config, &env));
    float obs[KALSIM_OBS_DIM];
    uint8_t mask[KALSIM_ACTION_COUNT];
    uint32_t sizes[KALSIM_TIER_COUNT];
    kalsim_step step;
    uint64_t rng = seed * 2654435761ULL + 1;
    CHECK(kalsim_env_size_table(env, sizes, KALSIM_TIER_COUNT));
    CHECK(kalsim_env_reset(env, seed, obs, KALSIM_OBS_DIM));

    if (bench_steps > 0) {
        double start = now_seconds();
        double checksum = 0.0;
        for (long long i = 0; i < bench_steps; i++) {
            CHECK(kalsim_env_action_mask(env, mask, KALSIM_ACTION_COUNT));
            CHECK(kalsim_env_step(env, random_valid_action(mask, &rng), &step, obs, KALSIM_OBS_DIM));
            checksum += step.reward;
            if (step.terminated || step.truncated) {
                CHECK(kalsim_env_reset_next(env, obs, KALSIM_OBS_DIM));
            }
        }
        double secs = now_seconds() - start;
        printf("c_env_steps %lld seconds %.3f steps_per_second %.0f checksum %.4f\n",
               bench_steps, secs, (double)bench_steps / secs, checksum);
        kalsim_env_free(env);
        return 0;
    }

    double total_reward = 0.0;
    uint32_t steps = 0;
    do {
        CHECK(kalsim_env_action_mask(env, mask, KALSIM_ACTION_COUNT));
        CHECK(kalsim_env_step(env, random_valid_action(mask, &rng), &step, obs, KALSIM_OBS_DIM));
        total_reward += step.reward;
        steps++;
    } while (!step.terminated && !step.truncated);

    kalsim_metrics metrics;
    CHECK(kalsim_env_metrics(env, &metrics));
    printf("kalsim %s (ABI %u), observation schema v%u with %zu features\n", kalsim_version(),
           kalsim_abi_version(), kalsim_obs_schema_version(), kalsim_obs_feature_count());
    printf("episode: %u steps, market %u, reward %.4f, %s, position %lld, PV %lld cents\n",
           steps, step.info.market_index, total_reward,
           step.terminated ? "terminated" : "truncated", (long long)step.info.position,
           (long long)step.info.portfolio_value_cents);
    print_metrics(&metrics, sizes);
    kalsim_env_free(env);
    return 0;
}
