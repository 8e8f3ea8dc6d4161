import type { TrafficPlan } from '../../model/traffic-plan.js';
import type { SourcedMeasurements } from '../../model/measurements.js';

/** Messages between the primary and its children. Plain JSON over Node's IPC channel. */

/** Controller → primary. Each request carries an id the reply repeats. */
export type ControllerRequest =
  | { type: 'plan'; requestId: number; plan: TrafficPlan }
  | { type: 'removeApp'; requestId: number; app: string }
  | { type: 'inflight'; requestId: number }
  | { type: 'measurements'; requestId: number }
  | { type: 'ready' }
  | { type: 'shutdown' };

/** A proxy worker's counts moved since they were last read (sent once until the next read; passed on by the primary to the controller). */
export type MeasurementsMoved = { type: 'measurementsMoved' };

/** Primary → controller. */
export type ControllerReply =
  { type: 'reply'; requestId: number; inflight?: Record<string, number>; measurements?: SourcedMeasurements[]; error?: string } | MeasurementsMoved;

/** Primary → proxy worker. */
export type WorkerCommand =
  | { type: 'plans'; requestId: number; plans: TrafficPlan[] }
  | { type: 'removeApp'; requestId: number; app: string }
  | { type: 'inflight'; requestId: number }
  | { type: 'measurements'; requestId: number }
  | { type: 'drain'; isGentle?: boolean }
  /** A listening socket the primary holds (its handle rides along on the IPC channel): listen on it instead of binding `key`. */
  | { type: 'socket'; key: string }
  /** `cutover restart`: send every listening socket back (one `listeningSocket` message each, with its handle), then reply. */
  | { type: 'listeningSockets'; requestId: number };

/** Proxy worker → primary. */
export type WorkerReply =
  | { type: 'reply'; requestId: number; inflight?: Record<string, number>; measurements?: SourcedMeasurements; error?: string }
  | { type: 'started' }
  | MeasurementsMoved
  | { type: 'listeningSocket'; requestId: number; host: string; port: number };
