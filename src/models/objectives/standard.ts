import { ValidationError } from '../../model/errors';
import type { CustomObjective } from '../xgboost/train';

/** Standard objectives as TypeScript callbacks: used to prove the custom path matches XGBoost's built-ins. */
export function squaredError(labels: ArrayLike<number>): CustomObjective {
  return (m) => {
    if (m.length !== labels.length)
      throw new ValidationError('margins', `length ${m.length} differs from ${labels.length} labels`);
    const grad = new Float32Array(m.length);
    const hess = new Float32Array(m.length).fill(1);
    for (let i = 0; i < m.length; i++) grad[i] = m[i]! - labels[i]!;
    return { grad, hess };
  };
}

export function logistic(labels: ArrayLike<number>): CustomObjective {
  return (m) => {
    if (m.length !== labels.length)
      throw new ValidationError('margins', `length ${m.length} differs from ${labels.length} labels`);
    const grad = new Float32Array(m.length);
    const hess = new Float32Array(m.length);
    for (let i = 0; i < m.length; i++) {
      const p = 1 / (1 + Math.exp(-m[i]!));
      grad[i] = p - labels[i]!;
      hess[i] = Math.max(p * (1 - p), 1e-16);
    }
    return { grad, hess };
  };
}
