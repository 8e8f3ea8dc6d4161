import { CutoverError } from '../../errors.js';

/**
 * A Kubernetes API call that failed: `status` is the HTTP status (undefined when no answer came:
 * connection refused or dropped, timed out). `isTransient` says whether the same call may work
 * later unchanged; `isInvalid` that the server refused the object itself (400, 422), so sending it
 * again cannot help.
 */
export class KubernetesApiError extends CutoverError {
  readonly status: number | undefined;

  constructor(message: string, options: { status: number | undefined; hint?: string; cause?: unknown }) {
    super('KUBERNETES_API_ERROR', message, options);
    this.name = 'KubernetesApiError';
    this.status = options.status;
  }

  get isTransient(): boolean {
    const { status } = this;
    return status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
  }

  get isInvalid(): boolean {
    return this.status === 400 || this.status === 422;
  }
}
