import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { droppedOverrides, maskedOverrides, overridesOfApp } from './overrides.js';

describe('--set overrides recorded in revisions', () => {
  it('keeps the overrides of one app', () => {
    assert.deepEqual(overridesOfApp(['web.replicas=3', 'api.run.env.X=1', 'webby.replicas=2'], 'web'), ['web.replicas=3']);
  });

  it('finds the overrides a deploy no longer sets, by key (a new value is not a drop)', () => {
    const previous = ['web.run.env.VERSION=7', 'web.replicas=3'];
    assert.deepEqual(droppedOverrides(previous, ['web.run.env.VERSION=8']), ['web.replicas=3']);
    assert.deepEqual(droppedOverrides(previous, []), previous);
    assert.deepEqual(droppedOverrides([], ['web.replicas=3']), []);
  });

  it('masks the value of an override that sets a secret env var, and only its value', () => {
    const shown = maskedOverrides(['web.run.env.TOKEN=s3cret=x', 'web.run.env.VERSION=7'], { secrets: ['TOKEN'] });
    assert.deepEqual(shown, ['web.run.env.TOKEN=***', 'web.run.env.VERSION=7']);
  });
});
