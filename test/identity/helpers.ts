import fs from 'fs/promises'
import path from 'path'
import IdentityKey from 'keet-identity-key'
import b4a from 'b4a'
import z32 from 'z32'
import { FluxError } from '../../src/errors.js'

/** 'OK' if `fn` returns or resolves, else the FluxError code it throws. */
export async function code(fn: () => unknown): Promise<string> {
  try {
    await fn()
    return 'OK'
  } catch (err) {
    return err instanceof FluxError ? err.code : `not a FluxError: ${String(err)}`
  }
}

/** Every file under `dir`, recursively, with its bytes. */
export async function allFiles(dir: string): Promise<{ file: string; bytes: Buffer }[]> {
  const out: { file: string; bytes: Buffer }[] = []
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await allFiles(file)))
    else if (entry.isFile()) out.push({ file, bytes: await fs.readFile(file) })
  }
  return out
}

/**
 * What must never reach disk for this phrase, computed independently of src/identity: the
 * phrase itself, the BIP-39 seed and the identity secret key (raw and as text encodings).
 */
export async function secretsOf(phrase: string): Promise<{ what: string; needle: Buffer }[]> {
  const id = await IdentityKey.from({ mnemonic: phrase })
  const raw = [
    { what: 'identity secret key', bytes: b4a.from(id.identityKeyPair.secretKey) as Buffer },
    {
      what: 'identity seed',
      bytes: b4a.from(id.identityKeyPair.secretKey.subarray(0, 32)) as Buffer
    },
    { what: 'BIP-39 seed', bytes: b4a.from(id.keyChain.seed) as Buffer }
  ]
  id.clear()
  const needles = [{ what: 'phrase', needle: b4a.from(phrase) as Buffer }]
  for (const { what, bytes } of raw) {
    needles.push({ what, needle: bytes })
    needles.push({ what: `${what} (hex)`, needle: b4a.from(b4a.toString(bytes, 'hex')) as Buffer })
    needles.push({
      what: `${what} (base64)`,
      needle: b4a.from(b4a.toString(bytes, 'base64')) as Buffer
    })
    needles.push({ what: `${what} (z32)`, needle: b4a.from(z32.encode(bytes)) as Buffer })
  }
  return needles
}

/**
 * Scan every file under `dir` for the secrets of `phrase` (see `secretsOf`) and any `extra`
 * needles. Returns how many files were read and each leak as "what in file" (relative path).
 */
export async function leaksUnder(
  dir: string,
  phrase: string,
  extra: { what: string; needle: Buffer }[] = []
): Promise<{ files: number; needles: number; leaks: string[] }> {
  const needles = [...(await secretsOf(phrase)), ...extra]
  const files = await allFiles(dir)
  const leaks: string[] = []
  for (const { file, bytes } of files) {
    for (const { what, needle } of needles) {
      if (bytes.includes(needle)) leaks.push(`${what} in ${path.relative(dir, file)}`)
    }
  }
  return { files: files.length, needles: needles.length, leaks }
}
