/** Row types of the SSH keys domain's table (src/db/schema.ts includes them). */
export interface SshKeysTable {
  id: string;
  project_id: string;
  name: string;
  /** The canonical OpenSSH line: type, base64 blob, comment. */
  public_key: string;
  /** SHA256:… of the blob, unique within the project. */
  fingerprint: string;
  type: string;
  bits: number;
  labels_json: string;
  created_at: string;
  updated_at: string;
}
