/**
 * JSON in and out: responses, error responses with a message, and the one
 * request body the demo accepts (none, or a small JSON object).
 *
 * @module
 */

/** A request the service refuses; its message tells the caller what to send instead. */
export class HttpError extends Error {
  /**
   * @param status the HTTP status to answer with
   * @param message what was wrong and what to do
   * @param headers extra response headers, e.g. `Allow`
   */
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
    this.name = "HttpError";
  }
}

/** A JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

/** The JSON error response for an {@linkcode HttpError}: `{ ok: false, status, error }`. */
export function errorResponse(error: HttpError): Response {
  return json({ ok: false, status: error.status, error: error.message }, error.status, error.headers);
}

/** Largest request body read, in bytes: the endpoints take no real input. */
export const MAX_BODY_BYTES = 1024;

/** Longest a client may take to send a request body; a slow one gets 408 and its connection closes. */
export const BODY_TIMEOUT_MS = 5_000;

/** Options for {@linkcode readOptionalJsonObject}. */
export interface BodyOptions {
  /** Keys the object may have. @default none */
  allowed?: readonly string[];
  /** How long the client may take to send the body. @default BODY_TIMEOUT_MS */
  timeoutMs?: number;
}

/**
 * Reads a POST body that must be empty or a JSON object whose keys are all in
 * `allowed` (the demo's endpoints read none today). The body is read as a
 * stream and never beyond {@linkcode MAX_BODY_BYTES}: a bigger one (declared
 * or not: chunked bodies have no Content-Length) is cancelled, not buffered.
 *
 * @throws {HttpError} 413 when the body is too big, 408 when it arrives too
 *   slowly, 400 when it is not such an object or could not be read (the
 *   client went away mid-body: its mistake, not an error of the service)
 */
export async function readOptionalJsonObject(
  request: Request,
  { allowed = [], timeoutMs = BODY_TIMEOUT_MS }: BodyOptions = {},
): Promise<Record<string, unknown>> {
  const text = await readSmallBody(request, timeoutMs);
  if (text.trim() === "") return {};
  const expected = allowed.length === 0
    ? "Send no body, or an empty JSON object {}."
    : `Send no body, or a JSON object with only ${allowed.map((k) => `"${k}"`).join(", ")}.`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `The request body is not valid JSON (${(error as Error).message}). ${expected}`);
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    const kind = body === null ? "null" : Array.isArray(body) ? "an array" : typeof body;
    throw new HttpError(400, `The request body must be a JSON object, not ${kind}. ${expected}`);
  }
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new HttpError(
      400,
      `Unknown field(s) in the request body: ${unknown.map((k) => `"${k}"`).join(", ")}. ${expected}`,
    );
  }
  return body as Record<string, unknown>;
}

/** The body as text, read chunk by chunk up to MAX_BODY_BYTES within `timeoutMs`; the rest is cancelled. */
async function readSmallBody(request: Request, timeoutMs: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > MAX_BODY_BYTES) {
    await request.body?.cancel().catch(() => {});
    throw tooLarge(`${declared} bytes`);
  }
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HttpError(408, `The request body did not arrive within ${timeoutMs} ms. Send it at once.`)),
      timeoutMs,
    );
  });
  late.catch(() => {}); // handled by the race below; never an unhandled rejection
  try {
    while (true) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await Promise.race([reader.read(), late]);
      } catch (error) {
        if (error instanceof HttpError) throw error;
        throw new HttpError(
          400,
          `The request body could not be read (${(error as Error)?.message ?? error}): ` +
            `the client closed the connection or sent a malformed body.`,
        );
      }
      if (chunk.done) break;
      size += chunk.value.byteLength;
      if (size > MAX_BODY_BYTES) throw tooLarge(`more than ${MAX_BODY_BYTES} bytes`);
      chunks.push(chunk.value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {}); // stop reading: the connection closes after the answer
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return new TextDecoder().decode(concat(chunks, size));
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return all;
}

function tooLarge(size: string): HttpError {
  return new HttpError(
    413,
    `The request body is ${size}; this endpoint accepts at most ${MAX_BODY_BYTES}. Send no body, or {}.`,
  );
}
