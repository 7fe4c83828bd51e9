import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenClient, passwordGrant } from '../src/index.js';
import { json, startServer, type TestServer } from './helpers/token-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer((req, res) => json(res, 200, { access_token: `at-${server.requests.length}`, token_type: 'bearer', expires_in: 3600 }));
});
afterAll(() => server.close());

describe('smoke', () => {
  it('gets a token with the password grant', async () => {
    const client = createTokenClient({
      grant: passwordGrant({ tokenUrl: `${server.url}/token`, clientId: 'app', username: 'u', password: 'p' }),
    });
    expect(await client.getAccessToken()).toBe('at-1');
    expect(await client.authorizationHeader()).toBe('Bearer at-1');
    expect(server.requests[0]!.params).toMatchObject({ grant_type: 'password', username: 'u', password: 'p', client_id: 'app' });
    await client.close();
  });
});
