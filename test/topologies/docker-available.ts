import { LOCAL_IMAGE } from '../../topologies/container/docker.ts';

/**
 * The image the container tests run: TOKENBENCH_TEST_IMAGE, or the one `tokenbench image build`
 * makes from this machine's redis-server (built here if missing: about a second, no registry).
 * Returns why the container backend cannot be tested, or undefined when it can.
 */
export async function containerBackendUnavailable(): Promise<{ image: string; why?: string }> {
  const image = process.env.TOKENBENCH_TEST_IMAGE ?? LOCAL_IMAGE;
  try {
    const { ensureTestImage } = await import('../../topologies/container/image.ts');
    await ensureTestImage(image, 'TOKENBENCH_TEST_IMAGE');
    return { image };
  } catch (error) {
    return { image, why: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  }
}
