/**
 * Device links on the wire: the request a new device sends (it rides the DHT in a small
 * record), signed by the new device to prove it holds its key.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'

const LINK_TAG = b4a.from('flux/link/v1')

// A link request rides the DHT in a small record: device key, writer key, a short name, and
// the device's signature over them (it proves the new device holds its secret key).
export function encodeLinkRequest(
  device: { publicKey: Buffer; secretKey: Buffer },
  writer: Buffer,
  name: string
): Buffer {
  const nameBytes = b4a.from(name.slice(0, 60)) as Buffer
  const body = b4a.concat([device.publicKey, writer, b4a.from([nameBytes.byteLength]), nameBytes])
  const sig = b4a.alloc(sodium.crypto_sign_BYTES) as Buffer
  sodium.crypto_sign_detached(sig, b4a.concat([LINK_TAG, body]), device.secretKey)
  return b4a.concat([body, sig]) as Buffer
}

export function decodeLinkRequest(
  buf: Buffer | null
): { device: Buffer; writer: Buffer; name: string } | null {
  if (buf === null || buf.byteLength < 65 + 64) return null
  const n = buf[64] as number
  if (buf.byteLength !== 65 + n + 64) return null
  const body = buf.subarray(0, 65 + n)
  const sig = buf.subarray(65 + n)
  const device = b4a.from(buf.subarray(0, 32)) as Buffer
  if (!sodium.crypto_sign_verify_detached(sig, b4a.concat([LINK_TAG, body]), device)) return null
  return {
    device,
    writer: b4a.from(buf.subarray(32, 64)) as Buffer,
    name: b4a.toString(buf.subarray(65, 65 + n))
  }
}
