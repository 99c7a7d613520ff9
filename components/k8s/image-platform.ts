import { amiTypeFor } from "../aws/cluster";

/** The platform to build service images for: the nodes' architecture (Graviton nodes cannot run amd64 images: "exec format error"). */
export function imagePlatformFor(instanceTypes: string[]): "linux/amd64" | "linux/arm64" {
  return amiTypeFor(instanceTypes) === "AL2023_ARM_64_STANDARD" ? "linux/arm64" : "linux/amd64";
}
