import type { ServerResponse } from 'node:http';

/** What a client response tells the request it belongs to. */
export interface ResponseOwner {
  /** The client's response closed (finished, or the client went away). */
  onClientResponseClose(): void;
  /** The client socket drained: the upstream body may flow again. */
  onClientDrain(): void;
}

/** The request a response belongs to, so that one shared listener serves every response. */
const kOwner = Symbol('forwardedRequest');
type TrackedResponse = ServerResponse & { [kOwner]?: ResponseOwner };

/** Shared 'close' and 'drain' listeners: no closure per request (`this` is the response). */
function onResponseClose(this: TrackedResponse): void {
  this[kOwner]?.onClientResponseClose();
}

function onResponseDrain(this: TrackedResponse): void {
  this[kOwner]?.onClientDrain();
}

/** Tells `owner` when the response closes. */
export function trackResponse(res: ServerResponse, owner: ResponseOwner): void {
  (res as TrackedResponse)[kOwner] = owner;
  res.on('close', onResponseClose);
}

/** Tells the response's owner (see `trackResponse`) each time the client socket drains. */
export function trackDrain(res: ServerResponse): void {
  res.on('drain', onResponseDrain);
}
