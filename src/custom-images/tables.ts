/** Row type of the custom-images domain's table (src/db/schema.ts includes it as `custom_images`). */
export interface CustomImagesTable {
  /** `cimg_…`: also the image's slug in the hosts' image stores. */
  id: string;
  project_id: string;
  /** Unique among the project's images that are not deleted. */
  name: string;
  region: string;
  /** `creating`, `available`, `error`, `deleted`. */
  status: string;
  source_server_id: string;
  /** The host the source server was on when the image was asked for (where its disk is read). */
  source_host_id: string | null;
  /** The catalog image the source server was built from: OS family, GPU needs carry over. */
  source_image: string;
  os_family: string;
  os_version: string;
  requires_gpu: number;
  /** The source server's disk size: servers of this image need at least this much disk. */
  min_disk_gib: number;
  /** The standalone qcow2's size and sha256, as the first host measured them (null on simulated hosts). */
  size_bytes: number | null;
  sha256: string | null;
  /** JSON array of the host ids that hold the image's file. */
  hosts_json: string;
  /** The `create_image` action that finishes when the image is available (or in error). */
  action_id: string | null;
  error_message: string | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}
