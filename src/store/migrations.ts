/**
 * Schema changes, applied in order and recorded in `PRAGMA user_version`. Never edit a
 * migration that has shipped; add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE apps (
    name TEXT PRIMARY KEY,
    stable_revision INTEGER,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE revisions (
    app TEXT NOT NULL,
    number INTEGER NOT NULL,
    spec TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (app, number)
  );
  CREATE TABLE rollouts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app TEXT NOT NULL,
    strategy TEXT NOT NULL,
    trigger TEXT NOT NULL,
    from_revision INTEGER,
    to_revision INTEGER NOT NULL,
    phase TEXT NOT NULL,
    direction TEXT NOT NULL,
    step TEXT NOT NULL DEFAULT '',
    reason TEXT,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    ended_at INTEGER
  );
  -- At most one active rollout per app, enforced by the database itself.
  CREATE UNIQUE INDEX rollouts_one_active ON rollouts (app) WHERE phase IN ('progressing', 'paused');
  CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    revision INTEGER NOT NULL,
    pid INTEGER,
    port INTEGER NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    log_path TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ready_at INTEGER,
    stopped_at INTEGER
  );
  CREATE INDEX instances_by_app ON instances (app, state);
  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    app TEXT NOT NULL,
    rollout_id INTEGER,
    kind TEXT NOT NULL,
    message TEXT NOT NULL
  );
  CREATE INDEX events_by_app ON events (app, id);
  `,
  `
  -- The process start time of an instance, so a restarted controller can tell its own
  -- process from an unrelated one that reused the pid.
  ALTER TABLE instances ADD COLUMN identity TEXT;
  -- The rollout that started an instance: its failures judge that rollout, across restarts.
  ALTER TABLE instances ADD COLUMN rollout_id INTEGER;
  `,
  `
  -- Blue-green and canary: the strategy settings a rollout runs with (fixed at its start), the
  -- step it is at and since when, a person's pause, the gate it waits at, and the revision kept
  -- warm out of traffic after it ended (blue after a switch, the canary after an abort).
  ALTER TABLE rollouts ADD COLUMN strategy_spec TEXT;
  ALTER TABLE rollouts ADD COLUMN step_index INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE rollouts ADD COLUMN step_started_at INTEGER;
  ALTER TABLE rollouts ADD COLUMN paused_at INTEGER;
  ALTER TABLE rollouts ADD COLUMN gate TEXT;
  ALTER TABLE rollouts ADD COLUMN warm_revision INTEGER;
  ALTER TABLE rollouts ADD COLUMN warm_until INTEGER;
  -- The traffic split the proxy confirmed last, for status.
  ALTER TABLE apps ADD COLUMN traffic TEXT;
  `,
  `
  -- Lifecycle hooks: the hooks a rollout runs with (fixed at its start) and the points skipped
  -- by --skip-hooks; one row per hook run, written before it starts and when it ends, so a
  -- restarted controller runs each hook once per rollout point.
  ALTER TABLE rollouts ADD COLUMN hooks_spec TEXT;
  ALTER TABLE rollouts ADD COLUMN skipped_hooks TEXT;
  CREATE TABLE hook_runs (
    rollout_id INTEGER NOT NULL,
    app TEXT NOT NULL,
    point TEXT NOT NULL,
    point_key TEXT NOT NULL,
    hook_index INTEGER NOT NULL,
    description TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    pid INTEGER,
    identity TEXT,
    reason TEXT,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    PRIMARY KEY (rollout_id, point_key, hook_index)
  );
  CREATE INDEX hook_runs_by_app ON hook_runs (app, state);
  `,
  `
  -- Metric analysis: the templates a rollout judges with (fixed at its start), one row per run
  -- of a template at a point of the rollout, and every measurement with its value, window,
  -- sample size and a sentence; the deploy report once the rollout ended.
  ALTER TABLE rollouts ADD COLUMN analysis_spec TEXT;
  ALTER TABLE rollouts ADD COLUMN report TEXT;
  CREATE TABLE analysis_runs (
    rollout_id INTEGER NOT NULL,
    app TEXT NOT NULL,
    point_key TEXT NOT NULL,
    template TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    PRIMARY KEY (rollout_id, point_key, template)
  );
  CREATE TABLE analysis_measurements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rollout_id INTEGER NOT NULL,
    app TEXT NOT NULL,
    point_key TEXT NOT NULL,
    template TEXT NOT NULL,
    at INTEGER NOT NULL,
    window_ms INTEGER NOT NULL,
    value REAL,
    sample_size INTEGER,
    baseline_value REAL,
    baseline_sample_size INTEGER,
    result TEXT NOT NULL,
    sentence TEXT NOT NULL
  );
  CREATE INDEX analysis_measurements_by_rollout ON analysis_measurements (rollout_id, point_key, template, id);
  `,
  `
  -- Traffic history for deploy reports, kept across controller restarts: per app, revision and
  -- wall-clock second, what the data plane counted (counts in METER_COUNTERS order, latency
  -- buckets, as JSON; revision 0 holds the requests no instance could take). And per data-plane
  -- process and instance, the raw counts read last, so a restarted controller counts on from
  -- there (nothing lost, nothing counted twice); instance '' holds the unrouted counts.
  CREATE TABLE traffic_seconds (
    app TEXT NOT NULL,
    revision INTEGER NOT NULL,
    second INTEGER NOT NULL,
    counts TEXT NOT NULL,
    latency_buckets TEXT NOT NULL,
    latency_sum REAL NOT NULL,
    PRIMARY KEY (app, second, revision)
  ) WITHOUT ROWID;
  CREATE TABLE measurement_cursors (
    source TEXT NOT NULL,
    instance TEXT NOT NULL,
    raw TEXT NOT NULL,
    first_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (source, instance)
  ) WITHOUT ROWID;
  `,
  `
  -- Cluster apps keep their state in the cluster too (a ConfigMap per app), so another machine
  -- can take the app over. A rollout goes there under a key that is the same on every machine;
  -- this maps the keys to the local rollout ids.
  CREATE TABLE cluster_rollout_keys (
    rollout_id INTEGER PRIMARY KEY,
    app TEXT NOT NULL,
    key TEXT NOT NULL,
    UNIQUE (app, key)
  );
  `,
  `
  -- How many instances an app runs: the app's, not a revision's (cutover scale changes it without
  -- a new revision; a deploy sets it from the config). NULL: not set yet, the revision's spec says.
  ALTER TABLE apps ADD COLUMN replicas INTEGER;
  `,
  `
  -- Exact deploy reports (issue 24): every traffic plan the controller pushes gets a generation
  -- (its row here: when, and the split as TrafficShare JSON), and the data plane counts each
  -- request under the generation that routed it, per revision and wall-clock second.
  CREATE TABLE plan_generations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app TEXT NOT NULL,
    at INTEGER NOT NULL,
    shares TEXT NOT NULL
  );
  CREATE INDEX plan_generations_by_app ON plan_generations (app, id);
  CREATE TABLE traffic_generations (
    app TEXT NOT NULL,
    generation INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    second INTEGER NOT NULL,
    counts TEXT NOT NULL,
    latency_buckets TEXT NOT NULL,
    latency_sum REAL NOT NULL,
    PRIMARY KEY (app, generation, revision, second)
  ) WITHOUT ROWID;
  `,
  `
  -- The release a revision runs (JSON, see ReleaseRecord): its files' content hash, source and
  -- directory, and whether it is built. NULL: an app without release: (it runs its working tree).
  ALTER TABLE revisions ADD COLUMN release TEXT;
  `,
  `
  -- The --set overrides a revision was deployed with (JSON string array, as typed, e.g.
  -- "web.run.env.VERSION=7"). NULL: none, or a revision from before they were kept.
  ALTER TABLE revisions ADD COLUMN overrides TEXT;
  `,
];
