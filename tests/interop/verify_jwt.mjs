// Verify a VC-JWT with `jose`: the key comes from the JWKS we pass, or from the did:key the
// header's `kid` names (resolved offline by @digitalbazaar/ed25519-multikey).
//
//   node verify_jwt.mjs (--jwks JWKS_FILE | --did-key) < token
//
// Prints {verified, header, payload, error}; exit 0 verified, 1 not, 2 usage.
import {readFile} from 'node:fs/promises';

import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {createLocalJWKSet, decodeProtectedHeader, importJWK, jwtVerify} from 'jose';

import {answer, didKeyFromMethod, readStdin, usage} from './oracle.mjs';

const [mode, jwksPath] = process.argv.slice(2);
if(!(mode === '--did-key' || (mode === '--jwks' && jwksPath))) {
  usage('usage: node verify_jwt.mjs (--jwks JWKS_FILE | --did-key) < token');
}
const token = (await readStdin()).trim();

async function didKeyResolver(header) {
  if(!header.kid?.startsWith('did:key:')) {
    throw new Error(`kid ${header.kid} is not a did:key method`);
  }
  const method = await didKeyFromMethod(header.kid);
  const keyPair = await Ed25519Multikey.from(method);
  return importJWK(await Ed25519Multikey.toJwk({keyPair}), 'EdDSA');
}

let header = null;
try {
  header = decodeProtectedHeader(token);
  const key = mode === '--jwks' ?
    createLocalJWKSet(JSON.parse(await readFile(jwksPath, 'utf8'))) : didKeyResolver;
  const {payload} = await jwtVerify(token, key, {algorithms: ['EdDSA', 'ES256']});
  answer({verified: true, header, payload, error: null});
} catch(error) {
  answer({verified: false, header, payload: null, error: `${error.code ?? ''} ${error.message}`});
}
