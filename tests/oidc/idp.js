// idp.js — a real OpenID Provider (panva's oidc-provider) on 127.0.0.1 for
// keywarden's sign-in tests and the demo.  Never listens elsewhere.
//
//   node idp.js --port 9400 --redirect http://127.0.0.1:8200/auth/callback \
//       --client-secret-file secret [--accounts accounts.json]
//
// Two confidential clients (client_secret_basic, PKCE required, code flow):
// "keywarden" (ID tokens signed RS256) and "keywarden-es" (ES256).  The
// signing keys are made at start-up.  Login and consent are the provider's
// development pages: any password is accepted for a known login.  Accounts
// (login -> e-mail, name, email_verified) come from --accounts, or the
// built-in test accounts below.  Prints one JSON line {"issuer": ...} on
// stdout once it listens.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

function args(name) {
  const out = [];
  process.argv.forEach((a, i) => {
    if (a === `--${name}` && i + 1 < process.argv.length) out.push(process.argv[i + 1]);
  });
  return out;
}

const port = Number(arg('port', '9400'));
const host = '127.0.0.1';
const redirects = args('redirect');
const secret = readFileSync(arg('client-secret-file'), 'utf8').split('\n')[0].trim();

const defaultAccounts = {
  'rick@example.com': { name: 'Rick', email_verified: true },
  'maria@example.com': { name: 'Maria', email_verified: true },
  'pat@example.com': { name: 'Pat', email_verified: true },
  'admin@example.com': { name: 'Admin', email_verified: true },
  'unverified@example.com': { name: 'Unverified', email_verified: false },
  'stranger@example.com': { name: 'Stranger', email_verified: true },
  'gone@example.com': { name: 'Gone', email_verified: true },
};
const accounts = arg('accounts')
  ? JSON.parse(readFileSync(arg('accounts'), 'utf8'))
  : defaultAccounts;

function key(kind) {
  const { privateKey } = kind === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig' };
}

const client = (id, alg) => ({
  client_id: id,
  client_secret: secret,
  redirect_uris: redirects,
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: alg,
});

const configuration = {
  clients: [client('keywarden', 'RS256'), client('keywarden-es', 'ES256')],
  jwks: { keys: [key('rsa'), key('ec')] },
  pkce: { required: () => true },
  // the e-mail claims go into the ID token itself, as keywarden reads them
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: [randomUUID()] },
  async findAccount(ctx, sub) {
    const a = accounts[sub];
    if (!a) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, email: sub, email_verified: a.email_verified, name: a.name };
      },
    };
  },
};

const provider = new Provider(`http://${host}:${port}`, configuration);
provider.listen(port, host, () => {
  process.stdout.write(`${JSON.stringify({ issuer: `http://${host}:${port}` })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
