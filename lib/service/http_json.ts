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

/**
 * Reads a POST body that must be empty or a JSON object whose keys are all in
 * `allowed` (the demo's endpoints read none today).
 *
 * @throws {HttpError} 413 when the body is too big, 400 when it is not such an object
 */
export async function readOptionalJsonObject(
  request: Request,
  allowed: readonly string[] = [],
): Promise<Record<string, unknown>> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge(declared);
  const text = await request.text();
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_BODY_BYTES) throw tooLarge(bytes);
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

function tooLarge(bytes: number): HttpError {
  return new HttpError(
    413,
    `The request body is ${bytes} bytes; this endpoint accepts at most ${MAX_BODY_BYTES}. Send no body, or {}.`,
  );
}
