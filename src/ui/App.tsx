import { useEffect } from 'react';
import { startLab, uploadFiles } from '../store/actions';
import { AnchorGallery } from './AnchorGallery';
import { BackendBadge } from './BackendBadge';
import { CopyLink } from './CopyLink';
import { DatasetPanel } from './DatasetPanel';
import { DistillPanel } from './DistillPanel';
import { ErrorBanner } from './ErrorBanner';
import { HistoryPanel } from './HistoryPanel';
import { Tagline } from './Tagline';
import { OodPanel } from './OodPanel';
import { MutualPanel } from './MutualPanel';
import { ReportCardPanel } from './ReportCardPanel';
import { SweepPanel } from './SweepPanel';
import { TemperatureExplorer } from './TemperatureExplorer';
import { TrainingPanel } from './TrainingPanel';
import { useFileDrop } from './useFileDrop';

export function App() {
  useEffect(() => {
    void startLab();
  }, []);
  const drop = useFileDrop((files) => void uploadFiles(files));
  return (
    <div className={drop.dragging ? 'page dragging' : 'page'} data-testid="page" {...drop.handlers}>
      <div className="app">
        <header>
          <div>
            <h1>Distillery</h1>
            <Tagline />
          </div>
          <div className="header-side">
            <BackendBadge />
            <CopyLink />
          </div>
        </header>
        <ErrorBanner />
        <main>
          <DatasetPanel />
          <div className="training-panels">
            <TrainingPanel role="teacher" />
            <TrainingPanel role="student" />
          </div>
          <DistillPanel />
          <TemperatureExplorer />
          <AnchorGallery />
          <OodPanel />
          <ReportCardPanel />
          <SweepPanel />
          <MutualPanel />
          <HistoryPanel />
        </main>
      </div>
    </div>
  );
}
