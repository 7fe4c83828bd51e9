/**
 * A throwaway certificate authority for the mutual-TLS tests, made with the openssl CLI in a
 * temporary directory (node:crypto reads certificates but cannot issue them): a CA, a server
 * certificate for 127.0.0.1 and a client certificate it signs, and a self-signed client
 * certificate. Bounded in time, removed by `dispose()`.
 */
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertificateAndKey {
  cert: string;
  key: string;
}

export interface TestCa {
  ca: string;
  server: CertificateAndKey;
  /** Signed by the CA, subject `CN=<clientCn>`. */
  client: CertificateAndKey;
  /** Self-signed, subject `CN=<clientCn>-self`. */
  selfSigned: CertificateAndKey;
  /** RFC 8705 section 3.1: base64url SHA-256 of a certificate's DER, as a JWK's `x5t#S256`. */
  thumbprint(certPem: string): string;
  dispose(): void;
}

export function makeTestCa(clientCn: string): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'prodo-auth-ca-'));
  const at = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 20_000 });
  };
  try {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.crt'), '-days', '1', '-subj', '/CN=prodo-auth test CA');
    const issue = (name: string, subject: string, extensions: string): void => {
      openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`), '-subj', subject);
      writeFileSync(at(`${name}.ext`), extensions);
      openssl('x509', '-req', '-in', at(`${name}.csr`), '-CA', at('ca.crt'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at(`${name}.crt`), '-days', '1', '-extfile', at(`${name}.ext`));
    };
    issue('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    issue('client', `/CN=${clientCn}`, 'extendedKeyUsage=clientAuth\n');
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', at('self.key'), '-out', at('self.crt'), '-days', '1', '-subj', `/CN=${clientCn}-self`);
    const read = (name: string): CertificateAndKey => ({
      cert: readFileSync(at(`${name}.crt`), 'utf8'),
      key: readFileSync(at(`${name}.key`), 'utf8'),
    });
    const result = {
      ca: readFileSync(at('ca.crt'), 'utf8'),
      server: read('server'),
      client: read('client'),
      selfSigned: read('self'),
    };
    rmSync(dir, { recursive: true, force: true });
    return {
      ...result,
      thumbprint: (certPem) => createHash('sha256').update(new X509Certificate(certPem).raw).digest('base64url'),
      dispose: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
