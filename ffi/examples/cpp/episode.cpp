// kalsim from C++: a small RAII wrapper over the C ABI, one episode with action masks and a
// seeded random valid action each step, then the SPEC §9 metrics.
#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "kalsim.h"

namespace kalsim {

/// A failed call: the status and the library's message.
class Error : public std::runtime_error {
public:
    Error(kalsim_status status, const std::string &what)
        : std::runtime_error(what + ": " + kalsim_status_str(status) + " (" + kalsim_last_error() + ")"),
          status_(status) {}
    kalsim_status status() const noexcept { return status_; }

private:
    kalsim_status status_;
};

inline void check(kalsim_status status, const char *what) {
    if (status != KALSIM_STATUS_OK) {
        throw Error(status, what);
    }
}

using Obs = std::array<float, KALSIM_OBS_DIM>;
using Mask = std::array<uint8_t, KALSIM_ACTION_COUNT>;

/// Owns a kalsim_env; movable, not copyable.
class Env {
public:
    explicit Env(const std::string &config_json = "") {
        kalsim_env *raw = nullptr;
        check(kalsim_env_new(config_json.c_str(), &raw), "kalsim_env_new");
        handle_.reset(raw);
    }

    Obs reset(uint64_t seed) {
        Obs obs{};
        check(kalsim_env_reset(handle_.get(), seed, obs.data(), obs.size()), "kalsim_env_reset");
        return obs;
    }

    kalsim_step step(uint32_t action, Obs &obs) {
        kalsim_step out{};
        check(kalsim_env_step(handle_.get(), action, &out, obs.data(), obs.size()), "kalsim_env_step");
        return out;
    }

    Mask action_mask() const {
        Mask mask{};
        check(kalsim_env_action_mask(handle_.get(), mask.data(), mask.size()), "kalsim_env_action_mask");
        return mask;
    }

    kalsim_metrics metrics() const {
        kalsim_metrics m{};
        check(kalsim_env_metrics(handle_.get(), &m), "kalsim_env_metrics");
        return m;
    }

    std::array<uint32_t, KALSIM_TIER_COUNT> sizes() const {
        std::array<uint32_t, KALSIM_TIER_COUNT> s{};
        check(kalsim_env_size_table(handle_.get(), s.data(), s.size()), "kalsim_env_size_table");
        return s;
    }

private:
    struct Free {
        void operator()(kalsim_env *env) const noexcept { kalsim_env_free(env); }
    };
    std::unique_ptr<kalsim_env, Free> handle_;
};

}  // namespace kalsim

int main(int argc, char **argv) {
    const uint64_t seed = argc > 1 ? std::stoull(argv[1]) : 42;
    try {
        kalsim::Env env;
        auto obs = env.reset(seed);
        std::mt19937_64 rng(seed);
        kalsim_step step{};
        double total_reward = 0.0;
        do {
            auto mask = env.action_mask();
            std::vector<uint32_t> allowed;
            for (uint32_t a = 0; a < KALSIM_ACTION_COUNT; ++a) {
                if (mask[a]) {
                    allowed.push_back(a);
                }
            }
            std::uniform_int_distribution<std::size_t> pick(0, allowed.size() - 1);
            step = env.step(allowed[pick(rng)], obs);
            total_reward += step.reward;
        } while (!step.terminated && !step.truncated);

        const auto m = env.metrics();
        const auto sizes = env.sizes();
        std::printf("episode: %llu steps, reward %.4f, %s\n", static_cast<unsigned long long>(m.steps),
                    total_reward, step.terminated ? "terminated" : "truncated");
        std::printf("total_return %.6f sharpe %.6f max_drawdown %.6f win_rate %.4f\n", m.total_return,
                    m.sharpe, m.max_drawdown, m.win_rate);
        std::printf("fees_cents %lld hold_fraction %.4f size_efficiency %.4f\n",
                    static_cast<long long>(m.fees_cents), m.hold_fraction, m.size_efficiency);
        std::printf("position_size_distribution {");
        for (int t = 0; t < KALSIM_TIER_COUNT; ++t) {
            std::printf("%s%u: %llu", t ? ", " : "", sizes[t],
                        static_cast<unsigned long long>(m.fills_per_tier[t]));
        }
        std::printf("}\n");
        std::printf("avg_winning_position_size %.2f avg_losing_position_size %.2f max_position_reached %llu\n",
                    m.avg_winning_position_size, m.avg_losing_position_size,
                    static_cast<unsigned long long>(m.max_position_reached));
        std::printf("size_changes %llu invalid_actions %llu\n", static_cast<unsigned long long>(m.size_changes),
                    static_cast<unsigned long long>(m.invalid_actions));

        // Errors arrive as exceptions carrying the library's message.
        try {
            kalsim::Env bad("{\"sizes\": [1, 2]}");
        } catch (const kalsim::Error &e) {
            std::printf("bad config rejected: status %u\n", static_cast<unsigned>(e.status()));
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
