import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import {
  ACTION_QUESTIONS,
  ACTIONS,
  api,
  ApiError,
  login,
  logout,
  type Action,
  type AppStatus,
  type AppSummary,
  type LiveMetrics,
  type RolloutRecord,
} from './api.js';
import { openEventStream } from './event-stream.js';
import { LiveCharts, MAX_TICKS, type Tick } from './live-chart.js';

type Auth = 'unknown' | 'out' | 'in';

function Dashboard() {
  const [auth, setAuth] = useState<Auth>('unknown');
  const [apps, setApps] = useState<AppSummary[]>([]);
  const [selected, setSelected] = useState<string | null>(location.hash.startsWith('#/apps/') ? decodeURIComponent(location.hash.slice(7)) : null);
  const [ticks, setTicks] = useState<Record<string, Tick[]>>({});
  const [changeCount, setChangeCount] = useState(0);
  const [isLive, setIsLive] = useState(false);

  const loadApps = useCallback(async () => {
    try {
      setApps((await api<{ apps: AppSummary[] }>('GET', '/apps')).apps);
      setAuth('in');
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) setAuth('out');
      else throw error;
    }
  }, []);

  useEffect(() => void loadApps(), [loadApps]);

  useEffect(() => {
    const onHash = (): void => setSelected(location.hash.startsWith('#/apps/') ? decodeURIComponent(location.hash.slice(7)) : null);
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  // Live: every stored change and the metrics tick of every second, under the session.
  useEffect(() => {
    if (auth !== 'in') return;
    return openEventStream('/v1/events', {
      onOpen: () => setIsLive(true),
      onError: () => setIsLive(false),
      onUnauthorized: () => setAuth('out'),
      onEvent: (name, data) => {
        if (name === 'change') {
          setChangeCount((n) => n + 1);
          void loadApps();
          return;
        }
        if (name !== 'metrics') return;
        const metrics = JSON.parse(data) as LiveMetrics;
        const atSeconds = Date.parse(metrics.at) / 1000;
        setTicks((previous) => {
          const next: Record<string, Tick[]> = { ...previous };
          for (const app of metrics.apps) next[app.app] = [...(previous[app.app] ?? []), { atSeconds, revisions: app.revisions }].slice(-MAX_TICKS);
          return next;
        });
      },
    });
  }, [auth, loadApps]);

  if (auth === 'unknown') return <p>Connecting…</p>;
  if (auth === 'out') return <Login onLoggedIn={() => void loadApps()} />;
  return (
    <div class="layout">
      <nav class="apps">
        <h1>cutover</h1>
        <p class={isLive ? 'live on' : 'live'} data-testid="live">
          {isLive ? '● live' : '○ reconnecting'}
        </p>
        <ul>
          {apps.map((app) => (
            <li key={app.name} class={app.name === selected ? 'selected' : ''}>
              <a href={`#/apps/${encodeURIComponent(app.name)}`} data-testid={`app-${app.name}`}>
                <strong>{app.name}</strong>
                <span>revision {app.stableRevision ?? '-'}</span>
                <span class={`state state-${app.state}`}>{app.state}</span>
              </a>
            </li>
          ))}
        </ul>
        {apps.length === 0 && <p>No apps yet: run cutover deploy.</p>}
        <button type="button" class="quiet" onClick={() => void logout().then(() => setAuth('out'))}>
          Log out
        </button>
      </nav>
      <section class="detail">
        {selected ? <AppView key={selected} name={selected} ticks={ticks[selected] ?? []} changeCount={changeCount} /> : <p>Choose an app.</p>}
      </section>
    </div>
  );
}

function Login({ onLoggedIn }: { onLoggedIn: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(null);
    if (await login(input.current?.value ?? '')) onLoggedIn();
    else setError('Refused: that is not the admin token.');
  };
  return (
    <form class="login" onSubmit={(e) => void submit(e)}>
      <h1>cutover</h1>
      <label>
        Admin token <small>(the file admin-token in the daemon's data dir)</small>
        <input ref={input} type="password" name="token" autocomplete="off" required data-testid="token" />
      </label>
      <button type="submit" data-testid="login">
        Log in
      </button>
      {error && (
        <p class="error" role="alert" data-testid="login-error">
          {error}
        </p>
      )}
    </form>
  );
}

function AppView({ name, ticks, changeCount }: { name: string; ticks: readonly Tick[]; changeCount: number }) {
  const [app, setApp] = useState<AppStatus | null>(null);
  const [rollouts, setRollouts] = useState<RolloutRecord[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [asking, setAsking] = useState<Action | null>(null);

  useEffect(() => {
    let isCurrent = true;
    Promise.all([
      api<AppStatus>('GET', `/apps/${encodeURIComponent(name)}`),
      api<{ rollouts: RolloutRecord[] }>('GET', `/apps/${encodeURIComponent(name)}/rollouts?limit=20`),
    ])
      .then(([status, history]) => {
        if (!isCurrent) return;
        setApp(status);
        setRollouts(history.rollouts);
      })
      .catch((caught: Error) => isCurrent && setError(caught.message));
    return () => {
      isCurrent = false;
    };
  }, [name, changeCount]);

  const act = async (action: Action): Promise<void> => {
    setAsking(null);
    setError(null);
    try {
      await api('POST', `/apps/${encodeURIComponent(name)}/${action}`, {});
    } catch (caught) {
      setError(caught instanceof ApiError ? `${caught.message}${caught.hint ? ` (${caught.hint})` : ''}` : String(caught));
    }
  };

  if (!app) return <p>{error ?? `Loading ${name}…`}</p>;
  const rollout = app.rollout;
  const isActive = rollout !== null && !['promoted', 'aborted', 'rolled-back', 'failed'].includes(rollout.phase);
  const isEnabled: Record<Action, boolean> = {
    promote: isActive && rollout.strategy !== 'rolling',
    pause: isActive && !rollout.isPausedByUser,
    resume: isActive && rollout.isPausedByUser,
    abort: isActive,
    rollback: true,
  };
  return (
    <article data-testid="app-view">
      <header>
        <h2>{app.name}</h2>
        <p>
          stable revision <strong data-testid="stable-revision">{app.revision ?? '-'}</strong>
          {rollout && (
            <>
              {' '}
              · rollout {rollout.id} ({rollout.strategy}){' '}
              <span class={`state state-${rollout.phase}`} data-testid="phase">
                {rollout.phase}
              </span>{' '}
              · revision {rollout.fromRevision ?? '-'} → {rollout.toRevision}
            </>
          )}
        </p>
        <div class="actions">
          {ACTIONS.map((action) => (
            <button
              key={action}
              type="button"
              class={action === 'abort' || action === 'rollback' ? 'danger' : ''}
              disabled={!isEnabled[action]}
              onClick={() => setAsking(action)}
              data-testid={`action-${action}`}
            >
              {action}
            </button>
          ))}
        </div>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </header>
      {asking && (
        <div class="confirm" role="dialog" aria-modal="true" data-testid="confirm">
          <p>{ACTION_QUESTIONS[asking](app.name)}</p>
          <button type="button" onClick={() => void act(asking)} data-testid="confirm-yes">
            Yes, {asking}
          </button>
          <button type="button" class="quiet" onClick={() => setAsking(null)}>
            Cancel
          </button>
        </div>
      )}
      <h3>Traffic</h3>
      <TrafficBar traffic={app.traffic} />
      <h3>Live</h3>
      <LiveCharts ticks={ticks} />
      {rollout && rollout.steps.length > 0 && (
        <>
          <h3>Steps</h3>
          <ol class="steps" data-testid="steps">
            {rollout.steps.map((step, i) => (
              <li key={i} class={i < rollout.stepIndex ? 'done' : i === rollout.stepIndex && isActive ? 'current' : ''}>
                {step}
              </li>
            ))}
          </ol>
        </>
      )}
      {rollout?.gate && (
        <p class="gate" data-testid="gate">
          Waiting for a person: {rollout.gate}
        </p>
      )}
      {rollout?.isPausedByUser && isActive && <p class="gate">Paused by a person: resume to go on.</p>}
      {rollout?.reason && <p class="reason">Reason: {rollout.reason}</p>}
      {rollout && rollout.analysis.length > 0 && (
        <>
          <h3>Analysis</h3>
          <table data-testid="analysis">
            <thead>
              <tr>
                <th>template</th>
                <th>at</th>
                <th>result</th>
                <th>measurements</th>
                <th>explanation</th>
              </tr>
            </thead>
            <tbody>
              {rollout.analysis.map((run) => (
                <tr key={`${run.point}:${run.template}`}>
                  <td>{run.template}</td>
                  <td>{run.point}</td>
                  <td class={`state state-${run.state}`}>{run.state}</td>
                  <td>{run.measurements}</td>
                  <td>{run.reason ?? run.last ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h3>Instances</h3>
      <table data-testid="instances">
        <thead>
          <tr>
            <th>instance</th>
            <th>revision</th>
            <th>state</th>
            <th>pid</th>
            <th>port</th>
          </tr>
        </thead>
        <tbody>
          {app.instances.map((i) => (
            <tr key={i.id}>
              <td>{i.id}</td>
              <td>{i.revision}</td>
              <td class={`state state-${i.state}`}>{i.state}</td>
              <td>{i.pid ?? '-'}</td>
              <td>{i.port}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>History</h3>
      <table data-testid="history">
        <thead>
          <tr>
            <th>rollout</th>
            <th>revisions</th>
            <th>strategy</th>
            <th>outcome</th>
            <th>report</th>
          </tr>
        </thead>
        <tbody>
          {rollouts.map((r) => (
            <tr key={r.id}>
              <td>
                {r.id}
                {r.trigger === 'rollback' ? ' (rollback)' : ''}
              </td>
              <td>
                {r.fromRevision ?? '-'} → {r.toRevision}
              </td>
              <td>{r.strategy}</td>
              <td class={`state state-${r.phase}`}>{r.phase}</td>
              <td>{r.report ? <Report report={r.report as ReportSummary} /> : (r.reason ?? '')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </article>
  );
}

function TrafficBar({ traffic }: { traffic: AppStatus['traffic'] }) {
  if (traffic.length === 0) return <p data-testid="traffic">No traffic.</p>;
  return (
    <div>
      <div class="split" aria-hidden="true">
        {traffic.map((t, i) => (
          <span key={t.revision} class={`segment segment-${i % 4}`} style={{ width: `${t.weight}%` }} />
        ))}
      </div>
      <p data-testid="traffic">
        {traffic.map((t) => `revision ${t.revision}: ${t.weight}% (${t.instances} instance${t.instances === 1 ? '' : 's'})`).join(' · ')}
      </p>
    </div>
  );
}

interface ReportSummary {
  headline: string;
  failedByDeploy: number;
  phases: { phase: string; revisions: { revision: number; requests: number; app5xx: number; failed: number; p99Ms: number | null }[] }[];
}

function Report({ report }: { report: ReportSummary }) {
  return (
    <details>
      <summary>{report.headline}</summary>
      <table class="report">
        <thead>
          <tr>
            <th>phase</th>
            <th>revision</th>
            <th>requests</th>
            <th>app 5xx</th>
            <th>failed</th>
            <th>p99</th>
          </tr>
        </thead>
        <tbody>
          {report.phases.flatMap((phase) =>
            phase.revisions.map((r) => (
              <tr key={`${phase.phase}:${r.revision}`}>
                <td>{phase.phase}</td>
                <td>{r.revision}</td>
                <td>{r.requests}</td>
                <td>{r.app5xx}</td>
                <td>{r.failed}</td>
                <td>{r.p99Ms === null ? '-' : `${r.p99Ms.toFixed(1)}ms`}</td>
              </tr>
            )),
          )}
        </tbody>
      </table>
    </details>
  );
}

render(<Dashboard />, document.getElementById('root')!);
