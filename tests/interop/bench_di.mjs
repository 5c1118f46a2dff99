// Figures for benchmarks/signing.py: the Digital Bazaar stack issuing and verifying Data
// Integrity (eddsa-rdfc-2022) credentials, median ms, in this process. Never run by the tests.
//
//   node bench_di.mjs CONTEXTS_MANIFEST ROUNDS < {"unsigned": …, "official": …}
//
// `unsigned` is signed with a fresh did:key (the issuer id is set to it), then verified;
// `official` (a signed example whose key is a did:key) is verified. Prints a JSON object.
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {issue, verifyCredential} from '@digitalbazaar/vc';

import {loadPinnedContexts, offlineLoader, readStdin, suite, usage} from './oracle.mjs';

const [manifestPath, roundsText] = process.argv.slice(2);
if(!manifestPath) {
  usage('usage: node bench_di.mjs CONTEXTS_MANIFEST ROUNDS < input.json');
}
const rounds = Number(roundsText ?? 200);
const documentLoader = offlineLoader(await loadPinnedContexts(manifestPath));
const input = JSON.parse(await readStdin());

const keyPair = await Ed25519Multikey.generate();
const did = `did:key:${keyPair.publicKeyMultibase}`;
keyPair.controller = did;
keyPair.id = `${did}#${keyPair.publicKeyMultibase}`;
const unsigned = structuredClone(input.unsigned);
unsigned.issuer = typeof unsigned.issuer === 'string' ? did : {...unsigned.issuer, id: did};

async function medianMs(action) {
  await action();  // warm the caches
  const times = [];
  for(let n = 0; n < rounds; n++) {
    const start = process.hrtime.bigint();
    await action();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const middle = times.length >> 1;
  return times.length % 2 ? times[middle] : (times[middle - 1] + times[middle]) / 2;
}

const signSuite = () => new DataIntegrityProof({signer: keyPair.signer(), cryptosuite: eddsaRdfc2022});
const sign = () => issue({credential: structuredClone(unsigned), suite: signSuite(), documentLoader});
const signed = await sign();
const notChecked = async () => ({verified: true, checked: false});
const check = async credential => {
  const result = await verifyCredential({
    credential, suite: suite(), documentLoader, checkStatus: notChecked,
  });
  if(!result.verified) {
    throw new Error(`not verified: ${JSON.stringify(result.error ?? result.results)}`);
  }
};
const figures = {
  issue: await medianMs(sign),
  verify_ours: await medianMs(() => check(signed)),
};
if(input.official) {
  figures.verify_official = await medianMs(() => check(input.official));
}
process.stdout.write(JSON.stringify(figures) + '\n');
