import { defaultTags, mergeTags } from "../../profile/tags";

describe("mergeTags: the defaults, then a component's extra tags, then the caller's; the later wins", () => {
  it("no tags: the defaults alone (project and managed-by), as a copy the caller may change", () => {
    const merged = mergeTags(undefined);
    expect(merged).toEqual({ project: "uaip", "managed-by": "pulumi" });
    merged.project = "other";
    expect(defaultTags.project).toBe("uaip");
  });

  it("extra tags override the defaults, and the caller's override both", () => {
    expect(mergeTags(undefined, { project: "extra", Name: "n" })).toEqual({
      project: "extra",
      "managed-by": "pulumi",
      Name: "n",
    });
    expect(mergeTags({ project: "mine", team: "t" }, { project: "extra", Name: "n" })).toEqual({
      project: "mine",
      "managed-by": "pulumi",
      Name: "n",
      team: "t",
    });
  });
});
