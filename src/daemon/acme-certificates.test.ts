import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RevisionRecord, RolloutRecord } from '../model/records.js';
import { servedAcmeHosts } from './acme-certificates.js';

type Revisions = Record<number, { hosts: string[]; tls: 'acme' | false }>;

/** The part of the store `servedAcmeHosts` reads, for apps with revisions, a stable one and maybe a rollout. */
function storeOf(apps: Record<string, { stable: number | null; rollout?: { from: number | null; to: number }; revisions: Revisions }>) {
  return {
    listApps: () => Object.entries(apps).map(([name, app]) => ({ name, stableRevision: app.stable })),
    activeRollout: (name: string) => {
      const rollout = apps[name]?.rollout;
      return rollout === undefined ? null : ({ fromRevision: rollout.from, toRevision: rollout.to } as RolloutRecord);
    },
    getRevision: (name: string, number: number) => {
      const revision = apps[name]?.revisions[number];
      return revision === undefined ? null : ({ spec: { frontDoor: { hosts: revision.hosts, paths: ['/'], tls: revision.tls } } } as unknown as RevisionRecord);
    },
  };
}

describe('the hosts the certificate manager looks after', () => {
  it('are those of the stable revision and of both ends of a rollout under way, with tls: acme', () => {
    const revisions: Revisions = {
      1: { hosts: ['a.example.com', 'old.example.com'], tls: 'acme' },
      2: { hosts: ['a.example.com'], tls: 'acme' },
      3: { hosts: ['a.example.com', 'new.example.com'], tls: 'acme' },
    };
    // Rolled back to revision 1 (the latest is 3, which failed): old.example.com is served again, new.example.com never was.
    assert.deepEqual(servedAcmeHosts(storeOf({ web: { stable: 1, revisions } })), ['a.example.com', 'old.example.com']);
    // A deploy under way from 2 to 3: the new host gets its certificate before traffic reaches it.
    assert.deepEqual(servedAcmeHosts(storeOf({ web: { stable: 2, rollout: { from: 2, to: 3 }, revisions } })), ['a.example.com', 'new.example.com']);
    // The first deploy: no stable revision yet.
    assert.deepEqual(servedAcmeHosts(storeOf({ web: { stable: null, rollout: { from: null, to: 2 }, revisions } })), ['a.example.com']);
    // A failed first deploy serves nothing.
    assert.deepEqual(servedAcmeHosts(storeOf({ web: { stable: null, revisions } })), []);
  });

  it('leave out hosts served with certificate files or without TLS', () => {
    const store = storeOf({
      web: { stable: 1, revisions: { 1: { hosts: ['b.example.com'], tls: 'acme' } } },
      plain: { stable: 1, revisions: { 1: { hosts: ['plain.example.com'], tls: false } } },
    });
    assert.deepEqual(servedAcmeHosts(store), ['b.example.com']);
  });
});
