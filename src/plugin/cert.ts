/**
 * The per-process certificate of AutoMTLS. The same certificate is the server certificate on
 * the plugin's socket and the client certificate when dialling the host's broker, so it carries
 * both EKUs; Go's verifier needs SAN DNS `localhost` (CN is ignored), CA:TRUE with keyCertSign
 * (the host pins it as its only root), a positive serial and a back-dated notBefore against
 * clock skew. Node's crypto cannot build certificates, hence @peculiar/x509 over WebCrypto.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** A certificate with its key, in the forms the TLS stack and the handshake line need. */
export interface PluginCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** DER bytes of the certificate (the handshake sends them base64, unpadded). */
  readonly der: Buffer;
}

/** ECDSA curves Go accepts for these certificates; OpenBao itself uses P-521 for the host. */
export type Curve = 'P-256' | 'P-384' | 'P-521';

const HASH_OF: Readonly<Record<Curve, string>> = {
  'P-256': 'SHA-256',
  'P-384': 'SHA-384',
  'P-521': 'SHA-512',
};

/** 16 random bytes with the top bit cleared: a positive serial (recent Go rejects negatives). */
function positiveSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}

/**
 * Make a fresh self-signed `localhost` certificate (default P-256/SHA-256, the settings verified
 * against OpenBao 2.7.2), valid from 30 s ago for `days` days.
 */
export async function createLocalhostCertificate(
  opts: { curve?: Curve; days?: number; organization?: string } = {},
): Promise<PluginCertificate> {
  const curve = opts.curve ?? 'P-256';
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: curve, hash: HASH_OF[curve] };
  const keys = (await webcrypto.subtle.generateKey(alg, true, [
    'sign',
    'verify',
  ])) as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];
  const now = Date.now();
  const org = opts.organization ? `, O=${opts.organization}` : '';
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: positiveSerial(),
    name: `CN=localhost${org}`,
    notBefore: new Date(now - 30_000),
    notAfter: new Date(now + (opts.days ?? 3650) * 86_400_000),
    signingAlgorithm: { name: 'ECDSA', hash: HASH_OF[curve] },
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature |
          x509.KeyUsageFlags.keyEncipherment |
          x509.KeyUsageFlags.keyAgreement |
          x509.KeyUsageFlags.keyCertSign,
        true,
      ),
      new x509.ExtendedKeyUsageExtension(
        [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
        false,
      ),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'localhost' }], false),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey);
  return {
    certPem: cert.toString('pem'),
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
    der: Buffer.from(cert.rawData),
  };
}

/** go-plugin decodes the handshake's certificate with base64.RawStdEncoding: no '=' padding. */
export function unpaddedBase64(der: Buffer): string {
  return der.toString('base64').replace(/=+$/, '');
}
