/**
 * @prodo-auth/opentelemetry: OpenTelemetry spans and metrics for prodo-auth's token requests.
 *
 * A thin listener on the channels `@prodo-auth/core` publishes on Node's `diagnostics_channel`:
 * core gains no dependency, this package needs only `@opentelemetry/api`, and nothing it records
 * carries a token, a secret or a query string (core publishes none).
 * @packageDocumentation
 */
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import {
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Counter,
  type Histogram,
  type MeterProvider,
  type Span,
  type TracerProvider,
} from '@opentelemetry/api';

/** The TracingChannel core publishes every token request on. */
export const TOKEN_REQUEST_CHANNEL = 'prodo-auth:token-request';
/** The channel core tells of every token a client hands out. */
export const TOKEN_SERVED_CHANNEL = 'prodo-auth:token-served';

/** The instrumentation scope name of the tracer and meter. */
export const INSTRUMENTATION_NAME = '@prodo-auth/opentelemetry';

/** Metric names, stable. */
export const METRIC_NAMES = {
  /** Counter of token requests, by `prodo_auth.grant`, `prodo_auth.kind`, `prodo_auth.outcome` (and `error.type`). */
  requests: 'prodo_auth.token.requests',
  /** Histogram of token request duration in seconds, by grant, kind and outcome. */
  duration: 'prodo_auth.token.request.duration',
  /** Counter of tokens handed out, by `prodo_auth.grant` and `prodo_auth.source` (`cache` or `server`). */
  served: 'prodo_auth.tokens.served',
} as const;

/** The context object of a token request, as core publishes it (structural: no import of core). */
export interface TokenRequestContext {
  readonly grant: string;
  readonly kind: string;
  readonly origin?: string | undefined;
  readonly path?: string | undefined;
  readonly outcome?: 'success' | 'error' | undefined;
  readonly errorCode?: string | undefined;
}

export interface ProdoAuthInstrumentationOptions {
  /**
   * Where spans go.
   * @default the global tracer provider (`trace.getTracerProvider()`)
   */
  tracerProvider?: TracerProvider | undefined;
  /**
   * Where metrics go.
   * @default the global meter provider (`metrics.getMeterProvider()`)
   */
  meterProvider?: MeterProvider | undefined;
}

/** A running instrumentation. */
export interface ProdoAuthInstrumentation {
  /** Stops listening: no span or metric is recorded after this. Idempotent. */
  disable(): void;
}

interface InFlight {
  span: Span;
  startedAt: number;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Span attributes of a request: the endpoint as server address, port and path, never a query. */
function endpointAttributes(context: TokenRequestContext): Attributes {
  const origin = str(context.origin);
  if (origin === undefined || !URL.canParse(origin)) return {};
  const url = new URL(origin);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return {
    'server.address': url.hostname,
    'server.port': port,
    'url.scheme': url.protocol.slice(0, -1),
    ...(str(context.path) === undefined ? {} : { 'url.path': str(context.path) }),
  };
}

/**
 * Starts turning prodo-auth's token requests into OpenTelemetry spans (one CLIENT span per
 * request, named `prodo-auth <kind>`) and metrics ({@link METRIC_NAMES}). Call it once at start;
 * every token client of every copy of `@prodo-auth/core` in the process is covered.
 *
 * @example
 * import { instrumentProdoAuth } from '@prodo-auth/opentelemetry';
 * const instrumentation = instrumentProdoAuth(); // the global providers of your OpenTelemetry SDK
 * // ... later: instrumentation.disable();
 */
export function instrumentProdoAuth(options: ProdoAuthInstrumentationOptions = {}): ProdoAuthInstrumentation {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_NAME);
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_NAME);
  const requests: Counter = meter.createCounter(METRIC_NAMES.requests, {
    description: 'Token requests to the authorization server',
    unit: '{request}',
  });
  const duration: Histogram = meter.createHistogram(METRIC_NAMES.duration, {
    description: 'Duration of token requests, retries included',
    unit: 's',
  });
  const served: Counter = meter.createCounter(METRIC_NAMES.served, {
    description: 'Access tokens handed out, from the cache or after a token request',
    unit: '{token}',
  });

  // Keyed by core's context object: the same object travels through every phase of one request.
  const inFlight = new WeakMap<object, InFlight>();
  const channel = tracingChannel(TOKEN_REQUEST_CHANNEL);
  const handlers = {
    start(message: unknown): void {
      const context = message as TokenRequestContext;
      const kind = str(context.kind) ?? 'unknown';
      const span = tracer.startSpan(`prodo-auth ${kind}`, {
        kind: SpanKind.CLIENT,
        attributes: { 'prodo_auth.grant': str(context.grant) ?? 'unknown', 'prodo_auth.kind': kind },
      });
      inFlight.set(context, { span, startedAt: performance.now() });
    },
    end(): void {},
    asyncStart(): void {},
    error(): void {},
    asyncEnd(message: unknown): void {
      const context = message as TokenRequestContext;
      const entry = inFlight.get(context);
      if (entry === undefined) return;
      inFlight.delete(context);
      const outcome = context.outcome === 'success' ? 'success' : 'error';
      const errorType = outcome === 'error' ? (str(context.errorCode) ?? 'unknown') : undefined;
      const attributes: Attributes = {
        'prodo_auth.grant': str(context.grant) ?? 'unknown',
        'prodo_auth.kind': str(context.kind) ?? 'unknown',
        'prodo_auth.outcome': outcome,
        ...(errorType === undefined ? {} : { 'error.type': errorType }),
      };
      // The endpoint is known once the grant sent its request, after the span started.
      entry.span.setAttributes({ ...attributes, ...endpointAttributes(context) });
      if (errorType !== undefined) entry.span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
      entry.span.end();
      requests.add(1, attributes);
      duration.record((performance.now() - entry.startedAt) / 1000, attributes);
    },
  };
  const onServed = (message: unknown): void => {
    const m = message as { grant?: unknown; source?: unknown };
    served.add(1, { 'prodo_auth.grant': str(m.grant) ?? 'unknown', 'prodo_auth.source': str(m.source) ?? 'unknown' });
  };
  channel.subscribe(handlers);
  subscribe(TOKEN_SERVED_CHANNEL, onServed);
  let enabled = true;
  return {
    disable() {
      if (!enabled) return;
      enabled = false;
      channel.unsubscribe(handlers);
      unsubscribe(TOKEN_SERVED_CHANNEL, onServed);
    },
  };
}
