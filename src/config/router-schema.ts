import { z } from 'zod';
import { DEFAULT_HAPROXY_BINARY, DEFAULT_HAPROXY_MODE, DEFAULT_HAPROXY_SERVERS, MAX_HAPROXY_SERVERS } from './defaults.js';
import { describeValue } from './describe-value.js';
import { fieldHints } from './field-hints.js';
import { issue, integer } from './field-schemas.js';
import { kubernetesName, K8S_LABEL_PATTERN, K8S_SUBDOMAIN_PATTERN } from './kubernetes-name.js';

const HAPROXY_NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

export const haproxyRouterSchema = z
  .strictObject({
    mode: z
      .enum(['managed', 'external'])
      .meta({
        description:
          'managed: cutover writes the config and runs HAProxy itself (master-worker, master socket); external: cutover only talks to a running HAProxy.',
        default: DEFAULT_HAPROXY_MODE,
      })
      .register(fieldHints, { expected: 'managed or external', hint: 'write mode: managed or mode: external' })
      .optional(),
    socket: z
      .string()
      .min(1)
      .meta({ description: "External mode: the runtime API socket of HAProxy (a stats socket with level admin), relative to the config file's directory." })
      .register(fieldHints, { expected: 'a socket path', hint: 'e.g. socket: /run/haproxy/admin.sock' })
      .optional(),
    backend: z
      .string()
      .regex(HAPROXY_NAME_PATTERN, { error: (iss) => `${describeValue(iss.input)} is not a valid HAProxy backend name` })
      .meta({ description: 'The backend cutover manages for the app (default cutover_APP); its revision backends are BACKEND_r0..r2.' })
      .register(fieldHints, { hint: 'letters, digits, _ . : and -, e.g. backend: be_web' })
      .optional(),
    servers: integer(1, MAX_HAPROXY_SERVERS)
      .meta({
        description: 'Managed mode: server slots per backend (the most instances of an app at once, draining ones included).',
        default: DEFAULT_HAPROXY_SERVERS,
      })
      .optional(),
    binary: z.string().min(1).meta({ description: 'Managed mode: the haproxy program.', default: DEFAULT_HAPROXY_BINARY }).optional(),
  })
  .superRefine((haproxy, ctx) => {
    if (haproxy.mode === 'external' && haproxy.socket === undefined) {
      ctx.addIssue(
        issue(
          'external mode needs socket: the runtime API of the running HAProxy',
          'add socket: /run/haproxy/admin.sock (a stats socket with level admin)',
          haproxy,
        ),
      );
    }
    if (haproxy.mode !== 'external' && haproxy.socket !== undefined) {
      ctx.addIssue({
        ...issue('socket is for external mode; a managed HAProxy gets its sockets in the data dir', 'remove socket, or write mode: external', haproxy.socket),
        path: ['socket'],
      });
    }
  })
  .meta({ description: 'Drive HAProxy through its runtime API.' });

export const kubernetesRouterSchema = z
  .strictObject({
    service: kubernetesName(K8S_LABEL_PATTERN, 'Service', 'service: web')
      .meta({ description: 'The Service that carries the traffic; blue-green switches its selector to the new revision. Default: the app name.' })
      .optional(),
    httpRoute: kubernetesName(K8S_SUBDOMAIN_PATTERN, 'HTTPRoute', 'httpRoute: web')
      .meta({
        description:
          'A Gateway API HTTPRoute whose backendRefs weights and header matches cutover sets for canary. Without it a canary weight is approximated by the replica ratio.',
      })
      .optional(),
  })
  .meta({
    description: 'Route by Kubernetes objects: a Service selector (blue-green) and a Gateway API HTTPRoute (canary). Needs runtime: { kubernetes: … }.',
  });

export const routerSchema = z
  .strictObject({
    builtin: z.strictObject({}).meta({ description: "cutover's own proxy (the default)." }).optional(),
    haproxy: haproxyRouterSchema.optional(),
    kubernetes: kubernetesRouterSchema.optional(),
  })
  .refine((router) => Object.keys(router).length === 1, {
    error: 'router names exactly one of builtin, haproxy and kubernetes',
    params: { hint: 'write router: { builtin: {} } or router: { haproxy: { mode: managed } }' },
  })
  .meta({ description: 'The load balancer that carries the traffic: builtin (the default), haproxy or kubernetes.' })
  .register(fieldHints, { expected: 'builtin, haproxy or kubernetes', hint: 'write router: { builtin: {} } or router: { haproxy: { mode: managed } }' });
