/** How an outbound response says "this token is no good", and which request bodies can be sent again. */

/** A 401, or a Bearer challenge that says the token is invalid (RFC 6750 section 3.1). */
export function isTokenRejection(res: { status: number; headers: { get(name: string): string | null } }): boolean {
  if (res.status === 401) return true;
  const challenge = res.headers.get('www-authenticate');
  return challenge !== null && /^\s*bearer\b/i.test(challenge) && /error\s*=\s*"?invalid_token"?/i.test(challenge);
}

/** Whether a request body can be sent a second time. Streams cannot. */
export function isReplayable(body: unknown): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof Blob ||
    body instanceof FormData
  );
}
