/**
 * An OTLP/HTTP trace receiver on 127.0.0.1 for tests: it keeps every JSON
 * payload it is sent, the bytes that would reach Jaeger.
 *
 * @module
 */

/** An OTLP/JSON attribute value (only the kinds Leak Lab sends). */
export interface OtlpValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
}

/** An OTLP/JSON key-value attribute. */
export interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}

/** One exported span, as OTLP/JSON carries it. */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** Nanoseconds since the epoch, as a decimal string. */
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  status?: { code?: number; message?: string };
  attributes?: OtlpAttribute[];
  events?: { name: string; attributes?: OtlpAttribute[] }[];
  links?: { attributes?: OtlpAttribute[] }[];
}

/** One OTLP/JSON export request. */
export interface OtlpPayload {
  resourceSpans: {
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: { scope?: { name?: string; attributes?: OtlpAttribute[] }; spans: OtlpSpan[] }[];
  }[];
}

/** A span with the resource and scope attributes it was exported under. */
export interface ReceivedSpan extends OtlpSpan {
  resourceAttributes: OtlpAttribute[];
  scopeAttributes: OtlpAttribute[];
}

/** A running receiver. */
export interface OtlpReceiver extends AsyncDisposable {
  /** Every payload, raw and parsed, in arrival order. */
  readonly payloads: { raw: string; json: OtlpPayload }[];
  /** Every span received so far, with its resource and scope attributes. */
  spans(): ReceivedSpan[];
  /** Base URL for `setupTelemetry({ otlpEndpoint })` (`/v1/traces` is appended). */
  readonly endpoint: string;
  readonly server: Deno.HttpServer<Deno.NetAddr>;
}

/** Starts a receiver on a free port of 127.0.0.1. */
export function startOtlpReceiver(): OtlpReceiver {
  const payloads: { raw: string; json: OtlpPayload }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    // It also answers as Jaeger's query API does, so JAEGER_UI_URL can point here: links need a UI that answers.
    if (request.method === "GET" && new URL(request.url).pathname === "/api/services") {
      return Response.json({ data: [], total: 0 });
    }
    if (request.method !== "POST" || new URL(request.url).pathname !== "/v1/traces") {
      return new Response("not found", { status: 404 });
    }
    const raw = await request.text();
    payloads.push({ raw, json: JSON.parse(raw) });
    return Response.json({});
  });
  return {
    payloads,
    server,
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    spans: () =>
      payloads.flatMap(({ json }) =>
        json.resourceSpans.flatMap((resource) =>
          resource.scopeSpans.flatMap((scope) =>
            scope.spans.map((span) => ({
              ...span,
              resourceAttributes: resource.resource.attributes,
              scopeAttributes: scope.scope?.attributes ?? [],
            }))
          )
        )
      ),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
