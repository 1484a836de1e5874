import { uploadFiles } from '../store/actions';

/** Choose CIFAR-10 binary files (dropping works anywhere on the page, see App); parsing runs in the Worker. */
export function UploadZone({ busy }: { busy: boolean }) {
  return (
    <label className="upload-zone" data-testid="dataset-upload">
      <input
        type="file"
        multiple
        accept=".bin,.gz,.tgz,.tar"
        disabled={busy}
        onChange={(e) => {
          if (e.target.files?.length) void uploadFiles(Array.from(e.target.files));
          e.target.value = '';
        }}
      />
      <span>
        Drop <code>cifar-10-binary.tar.gz</code> or its <code>.bin</code> batch files anywhere on the page, or
        click to choose.
      </span>
    </label>
  );
}
