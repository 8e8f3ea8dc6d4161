import type { StrategyName } from '../model/rollout.js';
import { blueGreenStrategy } from './blue-green.js';
import { canaryStrategy } from './canary.js';
import { rollingStrategy } from './rolling.js';
import type { Strategy } from './strategy.js';

/** Every strategy by name: the one place that lists them. */
export const STRATEGIES: Readonly<Record<StrategyName, Strategy>> = {
  rolling: rollingStrategy,
  'blue-green': blueGreenStrategy,
  canary: canaryStrategy,
};

export function strategyNamed(name: StrategyName): Strategy {
  return STRATEGIES[name];
}
