// An independent wallet (@openid4vc/openid4vci, OpenWallet Foundation) taking a credential
// offer through the whole OpenID4VCI 1.0 pre-authorized code flow.
//
//   node wallet_oid4vci.mjs ISSUER_URL LOCAL_URL < request.json
//
// request.json: {"offer": "openid-credential-offer://…", "configuration": "<id>",
//                "key": "ed25519-did" | "p256-jwk", "tx_code": "123456" (optional),
//                "replay": true (optional: redeem the code a second time)}
// The issuer's URLs (https://…) are fetched from LOCAL_URL (the test server), so the wallet
// sees the https Credential Issuer Identifier the spec requires. Prints a JSON result; exit 0
// when a credential was received, 1 when the issuer refused, 2 on usage errors.
import crypto from 'node:crypto';

import {CompactSign} from 'jose';
import {clientAuthenticationAnonymous} from '@openid4vc/oauth2';
import {Openid4vciClient} from '@openid4vc/openid4vci';

import {answer, readStdin, usage} from './oracle.mjs';

const [issuerUrl, localUrl] = process.argv.slice(2);
if(!issuerUrl || !localUrl) {
  usage('usage: node wallet_oid4vci.mjs ISSUER_URL LOCAL_URL < request.json');
}
let request;
try {
  request = JSON.parse(await readStdin());
} catch(error) {
  usage(`stdin is not JSON: ${error.message}`);
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58btc(bytes) {
  let value = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'));
  let out = '';
  while(value > 0n) {
    out = B58[Number(value % 58n)] + out;
    value /= 58n;
  }
  for(const byte of bytes) {
    if(byte !== 0) {
      break;
    }
    out = '1' + out;
  }
  return out;
}

function holderKey(kind) {
  if(kind === 'ed25519-did') {
    const {publicKey, privateKey} = crypto.generateKeyPairSync('ed25519');
    const jwk = publicKey.export({format: 'jwk'});
    const raw = Buffer.from(jwk.x, 'base64url');
    const multibase = 'z' + base58btc(Buffer.concat([Buffer.from([0xed, 0x01]), raw]));
    const did = `did:key:${multibase}`;
    return {
      privateKey, jwk, did,
      signer: {method: 'did', didUrl: `${did}#${multibase}`, alg: 'EdDSA'},
    };
  }
  if(kind === 'p256-jwk') {
    const {publicKey, privateKey} = crypto.generateKeyPairSync('ec', {namedCurve: 'P-256'});
    const {kty, crv, x, y} = publicKey.export({format: 'jwk'});
    const jwk = {kty, crv, x, y};
    return {privateKey, jwk, did: null, signer: {method: 'jwk', publicJwk: jwk, alg: 'ES256'}};
  }
  usage(`unknown key kind ${kind}`);
}

const holder = holderKey(request.key ?? 'ed25519-did');

// Every issuer URL is answered by the local test server.
async function localFetch(input, init) {
  const url = typeof input === 'string' ? input : input.url ?? String(input);
  const local = url.startsWith(issuerUrl) ? localUrl + url.slice(issuerUrl.length) : url;
  if(local === url) {
    throw new Error(`the wallet refused to fetch ${url}: not the issuer under test`);
  }
  return fetch(local, init);
}

const client = new Openid4vciClient({
  callbacks: {
    fetch: localFetch,
    hash: (data, alg) => new Uint8Array(
      crypto.createHash(alg.replace('-', '')).update(data).digest()),
    generateRandom: size => new Uint8Array(crypto.randomBytes(size)),
    clientAuthentication: clientAuthenticationAnonymous(),
    signJwt: async (signer, {header, payload}) => {
      const jwt = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
        .setProtectedHeader(header)
        .sign(holder.privateKey);
      return {jwt, signerJwk: holder.jwk};
    },
  },
});

function errorCode(error) {
  return error?.errorResponse?.error ??
    error?.response?.credentialErrorResponseResult?.data?.error ??
    error?.credentialErrorResponseResult?.data?.error ?? null;
}

const result = {verified: false, library: '@openid4vc/openid4vci'};
try {
  const offer = await client.resolveCredentialOffer(request.offer);
  result.offer = offer;
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  const configs = issuerMetadata.credentialIssuer.credential_configurations_supported;
  result.configuration = configs[request.configuration] ?? null;
  const {accessTokenResponse} = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer: offer,
    issuerMetadata,
    txCode: request.tx_code,
  });
  result.token_type = accessTokenResponse.token_type;
  if(request.replay) {
    try {
      await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
        credentialOffer: offer, issuerMetadata, txCode: request.tx_code,
      });
      result.replay = 'accepted';
    } catch(error) {
      result.replay = errorCode(error) ?? `error: ${error.message}`;
    }
  }
  const {c_nonce: nonce} = await client.requestNonce({issuerMetadata});
  const {jwt} = await client.createCredentialRequestJwtProof({
    issuerMetadata,
    credentialConfigurationId: request.configuration,
    signer: holder.signer,
    nonce,
  });
  const response = await client.retrieveCredentials({
    issuerMetadata,
    accessToken: accessTokenResponse.access_token,
    credentialConfigurationId: request.configuration,
    proofs: {jwt: [jwt]},
  });
  const credentials = response.credentialResponse.credentials ?? [];
  result.credentials = credentials.map(item => item.credential);
  result.holder = {did: holder.did, jwk: holder.jwk};
  result.verified = result.credentials.length === 1;
} catch(error) {
  result.error = error.message;
  result.error_code = errorCode(error);
}
answer(result);
