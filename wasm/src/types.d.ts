/** Environment configuration (SPEC; every key optional, defaults as `kalsim` documents). */
export interface LimitsConfig {
  max_position_per_market: number;
  max_position_value_cents: number;
  max_portfolio_fraction_bps: number;
  min_cash_buffer_cents: number;
}
export interface EnvConfigInput {
  sizes?: [number, number, number, number, number];
  sizing?: "variable" | "fixed";
  fixed_size?: number;
  pricing?: "sweep" | "aggressive" | "passive" | "mid";
  max_slippage_cents?: number;
  sweep_remainder?: "cancel" | "rest";
  order_latency_ms?: number;
  decision_interval?: { events: number } | { ms: number };
  sell_mode?: "reduce_only" | "sell_to_open";
  mark?: "liquidation" | "mid";
  invalid_action?: "hold" | "error";
  initial_cash_cents?: number;
  reward_scale?: number;
  max_steps?: number;
  queue_model?: "fifo" | "probabilistic";
  trade_prob_bps?: number;
  limits?: Partial<LimitsConfig>;
  fees?: { taker_rate_e4?: number; maker_rate_e4?: number; maker_fees?: boolean; maker_fee_markets?: string[] };
  data?: { lenient?: boolean; synthetic_markets?: number; synthetic_events?: number; synthetic_seed?: number;
    synthetic_edge_bps?: number; preset?: "" | "default" | "informed" };
}
/** SPEC §7 info (cents are integers, contracts whole). Pinned to the host's `StepInfo` by tests/types.test.mjs. */
export interface StepInfo {
  step: number; market_index: number; event_index: number;
  cash_cents: number; position: number; portfolio_value_cents: number;
  fees_paid_cents: number; realized_pnl_cents: number;
  last_order_intent: number; last_order_tier: number; last_order_size: number;
  last_order_limit_cents: number; last_order_filled: number; last_order_avg_fill_price: number;
  invalid_action: number; invalid_action_name: string;
  filled_this_step: number; fee_this_step_cents: number;
  working_order_remaining: number; settled: number;
}
export interface ResetResult { obs: Float32Array; info: StepInfo; mask: Uint8Array; }
export interface StepResult { obs: Float32Array; reward: number; terminated: boolean; truncated: boolean; info: StepInfo; }
export interface VecStepResult { obs: Float32Array; rewards: Float64Array; terminated: Uint8Array; truncated: Uint8Array; masks: Uint8Array; }
export interface ObsFeature { index: number; name: string; group: string; scaling: string; min: number; max: number; }
export interface DecodedAction { action: number; intent: number; intentName: string; tier: number; tierName: string; }
export interface OrderCheck { ok: boolean; reason: string | null; code: number; }
export interface EpisodeMetrics {
  steps: number; position_size_distribution: Record<string, number>; fills_per_tier: number[];
  avg_winning_position_size: number; avg_losing_position_size: number; size_efficiency: number;
  max_position_reached: number; size_changes_per_episode: number; avg_position_size: number;
  action_histogram: number[]; hold_fraction: number; fees_paid_cents: number; total_return: number;
  sharpe: number; max_drawdown: number; win_rate: number; invalid_actions: number; round_trips: number;
  initial_pv_cents: number; final_pv_cents: number;
}
export interface BookLevel { price: number; contracts: number; }
export interface BookLevels {
  yes: BookLevel[]; no: BookLevel[];
  yes_bid: number | null; yes_ask: number | null; no_bid: number | null; no_ask: number | null;
  working: { remaining: number; intent: string; size: number; limit_cents: number } | null;
}
export interface LoadCaptureOptions { lenient?: boolean; results?: Record<string, "yes" | "no"> | string; name?: string; }
export interface LoadSummary {
  markets: number; tickers: string[]; events: number[]; results: ("yes" | "no" | null)[];
  lines: number; skipped: number; skipped_by_kind: Record<string, number>; skipped_messages: string[];
  gaps: number; ignored_types: Record<string, number>;
}
/** PPO hyper-parameters (snake_case as the host's PpoConfig; every key optional). */
export interface PpoConfig {
  n_steps: number; minibatch_size: number; n_epochs: number; gamma: number; gae_lambda: number;
  clip_range: number; clip_range_vf: number | null; ent_coef: number; vf_coef: number;
  learning_rate: number; adam_eps: number; max_grad_norm: number; normalize_advantage: boolean;
  target_kl: number | null; hidden: number[]; seed: number;
}
/** One PPO iteration's statistics. */
export interface IterStats {
  iteration: number; timesteps: number; mean_episode_return: number; mean_episode_length: number;
  episodes: number; entropy: number; approx_kl: number; clip_fraction: number; value_loss: number;
  policy_loss: number; explained_variance: number; hold_fraction: number;
  action_histogram: number[]; size_tiers: number[]; learning_rate: number;
}
/** What a checkpoint was trained on (the host's `PolicyMeta`); `pricing` e.g. `"sweep:2:cancel"`, `decision_interval` e.g. `"events=1"`. */
export interface PolicyMeta {
  obs_schema_version: number; obs_dim: number; action_count: number; size_table: number[]; sizing: string;
  pricing: string; decision_interval: string; preset: string;
}
/** One episode of a run report (the host's `EpisodeRow`, snake_case as `report.json`). */
export interface EpisodeRow {
  episode: number; market: string; steps: number; end: "settled_yes" | "settled_no" | "truncated" | "bankrupt";
  initial_pv_cents: number; final_pv_cents: number; total_return: number; sharpe: number;
  max_drawdown: number; win_rate: number; round_trips: number; fees_cents: number;
  hold_fraction: number; fills_per_tier: number[]; avg_winning_position_size: number;
  avg_losing_position_size: number; size_efficiency: number; max_position_reached: number;
  size_changes: number; invalid_actions: number; avg_position_size: number; action_histogram: number[];
}
/** A run's SPEC §9 aggregate (the host's `Aggregate`): means over episodes, `*_pooled` over all round trips. */
export interface Aggregate {
  episodes: number; steps: number; total_return: number; sharpe: number; max_drawdown: number;
  max_drawdown_worst: number; win_rate: number; win_rate_pooled: number; round_trips: number;
  fees_cents: number; fees_cents_total: number; hold_fraction: number; fills_per_tier: number[];
  position_size_distribution: Record<string, number>; avg_winning_position_size: number;
  avg_losing_position_size: number; size_efficiency: number; size_efficiency_pooled: number;
  max_position_reached: number; size_changes_per_episode: number; invalid_actions: number;
  avg_position_size: number;
}
/** The run report's scalar part, as `kalsim run` writes it to `report.json` (without `config` and the series). */
export interface RunReport {
  schema: string; policy: string; seed: string; obs_schema_version: number; tier_sizes: number[];
  markets: number; per_episode: EpisodeRow[]; aggregate: Aggregate; action_histogram: number[];
}
/** `evaluate` / `evaluateScript` result: the host's run report (SPEC §9) and its series as typed arrays. */
export interface Evaluation {
  report: RunReport;
  /** Pearson r of filled contracts and the signed forecast edge over opening trades (null when undefined). */
  sizeEdgeR: number | null;
  /** Pearson r of round-trip size and profit over the run (0 when undefined). */
  sizeProfitR: number;
  openingTrades: { episode: Uint32Array; filled: Uint32Array; edge: Float64Array };
  roundTrips: { episode: Uint32Array; size: Float64Array; profitCents: Float64Array };
  equityCents: Float64Array;
  episodeStarts: Uint32Array;
}
