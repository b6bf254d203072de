// TEMPORARY stub: replaced by the `net` branch's implementation on merge.
export interface AddressBlock {
  readonly index: number;
  readonly prefix: string;
  node(i: number): string;
  clientGroup(g: number): string;
  release(): void;
}

export async function allocateAddressBlock(): Promise<AddressBlock> {
  const index = 1 + Math.floor(Math.random() * 254);
  const prefix = `127.77.${index}`;
  return { index, prefix, node: (i) => `${prefix}.${i + 1}`, clientGroup: (g) => `${prefix}.${200 + g}`, release: () => {} };
}
