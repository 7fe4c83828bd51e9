/**
 * The OpenTelemetry bridge, end to end: real token clients of @prodo-auth/core talk to the mock
 * server over HTTP, and the OpenTelemetry SDK's in-memory exporter and a metric reader record
 * what this package made of core's diagnostics_channel publications.
 */
import { inspect } from 'node:util';
import { createTokenClient, procurios, type TokenClient } from '@prodo-auth/core';
import { startMockServer, type MockServer } from '@prodo-auth/mock-server';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AggregationTemporality, MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { instrumentProdoAuth, METRIC_NAMES, type ProdoAuthInstrumentation } from '../src/index.js';

/** A reader the test collects from on demand. */
class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

let mock: MockServer<'procurios'>;
let exporter: InMemorySpanExporter;
let reader: TestReader;
let tracerProvider: BasicTracerProvider;
let meterProvider: MeterProvider;
let instrumentation: ProdoAuthInstrumentation;
const open: TokenClient[] = [];

beforeAll(async () => {
  mock = await startMockServer({ vendor: 'procurios' });
});
afterAll(() => mock?.close());

beforeEach(() => {
  exporter = new InMemorySpanExporter();
  reader = new TestReader();
  tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  meterProvider = new MeterProvider({ readers: [reader] });
  instrumentation = instrumentProdoAuth({ tracerProvider, meterProvider });
});
afterEach(async () => {
  instrumentation.disable();
  await Promise.all(open.splice(0).map((c) => c.close()));
  await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
});

function client(clientSecret = mock.credentials.clientSecret): TokenClient {
  const { clientId, scope } = mock.credentials;
  const c = createTokenClient({ ...procurios.clientCredentials({ tokenUrl: mock.tokenUrl, clientId, clientSecret, scope }), retry: { retries: 0 } });
  open.push(c);
  return c;
}

/** The points of one metric, as [attributes, value]. */
async function points(name: string): Promise<Array<[Record<string, unknown>, unknown]>> {
  const { resourceMetrics } = await reader.collect();
  const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
  return (metric?.dataPoints ?? []).map((p: DataPoint<unknown>) => [p.attributes, p.value]);
}

describe('@prodo-auth/opentelemetry', () => {
  it('records one CLIENT span per token request, with the grant, kind and endpoint, and no query or secret', async () => {
    const c = client();
    const token = await c.getAccessToken();
    await c.getAccessToken();
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    const [span] = spans;
    const url = new URL(mock.tokenUrl);
    expect(span!.name).toBe('prodo-auth obtain');
    expect(span!.kind).toBe(SpanKind.CLIENT);
    expect(span!.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(span!.attributes).toEqual({
      'prodo_auth.grant': 'client_credentials',
      'prodo_auth.kind': 'obtain',
      'prodo_auth.outcome': 'success',
      'server.address': url.hostname,
      'server.port': Number(url.port),
      'url.scheme': 'http',
      'url.path': url.pathname,
    });
    const shown = inspect(spans, { depth: 6 });
    expect(shown).not.toContain(token);
    expect(shown).not.toContain(mock.credentials.clientSecret);
  });

  it('counts requests by grant and outcome, records their duration, and counts tokens served from cache vs server', async () => {
    const c = client();
    await c.getAccessToken();
    await c.getAccessToken();
    await c.getAccessToken();
    const bad = client('not-the-secret-value');
    await expect(bad.getAccessToken()).rejects.toMatchObject({ code: 'ERR_PRODO_AUTH_OAUTH' });

    expect(await points(METRIC_NAMES.requests)).toEqual(
      expect.arrayContaining([
        [{ 'prodo_auth.grant': 'client_credentials', 'prodo_auth.kind': 'obtain', 'prodo_auth.outcome': 'success' }, 1],
        [
          {
            'prodo_auth.grant': 'client_credentials',
            'prodo_auth.kind': 'obtain',
            'prodo_auth.outcome': 'error',
            'error.type': 'ERR_PRODO_AUTH_OAUTH',
          },
          1,
        ],
      ]),
    );
    const durations = await points(METRIC_NAMES.duration);
    expect(durations).toHaveLength(2);
    for (const [, value] of durations) {
      const h = value as Histogram;
      expect(h.count).toBe(1);
      expect(h.sum).toBeGreaterThan(0);
      expect(h.sum).toBeLessThan(10);
    }
    expect(await points(METRIC_NAMES.served)).toEqual(
      expect.arrayContaining([
        [{ 'prodo_auth.grant': 'client_credentials', 'prodo_auth.source': 'server' }, 2],
        [{ 'prodo_auth.grant': 'client_credentials', 'prodo_auth.source': 'cache' }, 2],
      ]),
    );
    const failed = exporter.getFinishedSpans().find((s) => s.attributes['prodo_auth.outcome'] === 'error');
    expect(failed?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'ERR_PRODO_AUTH_OAUTH' });
  });

  it('records nothing once disabled', async () => {
    instrumentation.disable();
    instrumentation.disable();
    await client().getAccessToken();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    expect(await points(METRIC_NAMES.requests)).toEqual([]);
  });
});
