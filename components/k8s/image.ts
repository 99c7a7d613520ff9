import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { contextHash } from "./context-hash";
import { ComponentArgsError } from "../../profile/errors";

export interface ServiceImageArgs {
  /** A prebuilt image reference. Either this or `build`. */
  image?: string;
  /** Build from source with @pulumi/docker and push to an ECR repository made here. */
  build?: { context: string; dockerfile: string };
  /** Platform to build for: the nodes' architecture. @default "linux/amd64" */
  platform?: "linux/amd64" | "linux/arm64";
  /**
   * Keep the ECR repository and its images when the stack is destroyed (retainOnDelete). Off, the
   * repository is deleted with its images (forceDelete): ECR refuses to delete a repository that
   * holds images, so without it every `pulumi destroy` of a stack that pushed one fails.
   * @default false
   */
  retainRepository?: boolean;
  /** Images kept in ECR; older ones expire. @default 30 */
  keepImages?: number;
  /** @default {} */
  tags?: Record<string, string>;
}

/**
 * The image a service runs: either passed through, or built and pushed to a private, scanned,
 * tag-immutable ECR repository under a content-hash tag.
 */
export class ServiceImage extends pulumi.ComponentResource {
  /** The image reference the Deployment uses (digest-pinned when built here). */
  public readonly imageRef: pulumi.Output<string>;
  public readonly repositoryUrl?: pulumi.Output<string>;

  constructor(name: string, args: ServiceImageArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("uaip:k8s:ServiceImage", name, {}, opts);
    if (!args.build) {
      if (!args.image) throw new ComponentArgsError("ServiceImageArgs.image", `${name}: set either image or build`);
      this.imageRef = pulumi.output(args.image);
      this.registerOutputs({ imageRef: this.imageRef });
      return;
    }
    const retain = args.retainRepository ?? false;
    const repo = new aws.ecr.Repository(
      `${name}-repo`,
      {
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "KMS" }],
        forceDelete: !retain,
        tags: args.tags,
      },
      { parent: this, retainOnDelete: retain },
    );
    new aws.ecr.LifecyclePolicy(
      `${name}-lifecycle`,
      {
        repository: repo.name,
        policy: JSON.stringify({
          rules: [
            {
              rulePriority: 1,
              description: `keep the last ${args.keepImages ?? 30} images`,
              selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: args.keepImages ?? 30 },
              action: { type: "expire" },
            },
          ],
        }),
      },
      { parent: this },
    );
    const auth = aws.ecr.getAuthorizationTokenOutput({ registryId: repo.registryId }, { parent: this });
    const tag = contextHash(args.build.context, args.build.dockerfile);
    const image = new docker.Image(
      `${name}-image`,
      {
        imageName: pulumi.interpolate`${repo.repositoryUrl}:${tag}`,
        build: { context: args.build.context, dockerfile: args.build.dockerfile, platform: args.platform ?? "linux/amd64" },
        registry: { server: repo.repositoryUrl, username: auth.userName, password: pulumi.secret(auth.password) },
      },
      { parent: this },
    );
    this.repositoryUrl = repo.repositoryUrl;
    this.imageRef = image.repoDigest;
    this.registerOutputs({ imageRef: this.imageRef, repositoryUrl: this.repositoryUrl });
  }
}
