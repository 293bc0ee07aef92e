-- What each video says, as one FTS5 row (rowid = the video's rowid, as in
-- `videos_fts`): every cue of every track, in order. Search ranks videos
-- found only in their captions by this row's bm25, one score per matching
-- video, where ranking by their best cue (`caption_cues_fts`) scored every
-- matching cue of the catalogue. `caption_cues_fts` stays: it finds the page's
-- moments. As in 0004 and 0009, only public, ready videos are indexed: bm25
-- scores, which cursors carry, must not reveal other videos' words. The table
-- keeps its own copy of the text, so a row leaves by its rowid alone.
CREATE VIRTUAL TABLE `caption_transcripts_fts` USING fts5(
	text,
	tokenize='unicode61 remove_diacritics 2',
	prefix='2 3'
);
--> statement-breakpoint
INSERT INTO `caption_transcripts_fts` (rowid, text)
	SELECT v.rowid, (SELECT group_concat(text, char(10)) FROM (
		SELECT text FROM caption_cues WHERE video_id = v.id ORDER BY lang, start_ms))
	FROM `videos` v
	WHERE v.visibility = 'public' AND v.status = 'ready' AND EXISTS (SELECT 1 FROM caption_cues WHERE video_id = v.id);
--> statement-breakpoint
-- A track is written as its cues, then its `captions` row, in one batch
-- (worker/captions/caption-tracks.ts), and removed the same way: the row's
-- change rebuilds the video's transcript from its cues, in that transaction.
CREATE TRIGGER `caption_transcripts_track_insert` AFTER INSERT ON `captions` BEGIN
	DELETE FROM caption_transcripts_fts WHERE rowid = (SELECT rowid FROM videos WHERE id = new.video_id);
	INSERT INTO caption_transcripts_fts (rowid, text)
		SELECT v.rowid, (SELECT group_concat(text, char(10)) FROM (
			SELECT text FROM caption_cues WHERE video_id = v.id ORDER BY lang, start_ms))
		FROM videos v
		WHERE v.id = new.video_id AND v.visibility = 'public' AND v.status = 'ready'
			AND EXISTS (SELECT 1 FROM caption_cues WHERE video_id = v.id);
END;
--> statement-breakpoint
CREATE TRIGGER `caption_transcripts_track_update` AFTER UPDATE ON `captions` BEGIN
	DELETE FROM caption_transcripts_fts WHERE rowid = (SELECT rowid FROM videos WHERE id = new.video_id);
	INSERT INTO caption_transcripts_fts (rowid, text)
		SELECT v.rowid, (SELECT group_concat(text, char(10)) FROM (
			SELECT text FROM caption_cues WHERE video_id = v.id ORDER BY lang, start_ms))
		FROM videos v
		WHERE v.id = new.video_id AND v.visibility = 'public' AND v.status = 'ready'
			AND EXISTS (SELECT 1 FROM caption_cues WHERE video_id = v.id);
END;
--> statement-breakpoint
CREATE TRIGGER `caption_transcripts_track_delete` AFTER DELETE ON `captions` BEGIN
	DELETE FROM caption_transcripts_fts WHERE rowid = (SELECT rowid FROM videos WHERE id = old.video_id);
	INSERT INTO caption_transcripts_fts (rowid, text)
		SELECT v.rowid, (SELECT group_concat(text, char(10)) FROM (
			SELECT text FROM caption_cues WHERE video_id = v.id ORDER BY lang, start_ms))
		FROM videos v
		WHERE v.id = old.video_id AND v.visibility = 'public' AND v.status = 'ready'
			AND EXISTS (SELECT 1 FROM caption_cues WHERE video_id = v.id);
END;
--> statement-breakpoint
-- A video that becomes searchable brings its transcript into the index; one
-- that stops being so, or is deleted, takes it out.
CREATE TRIGGER `caption_transcripts_video` AFTER UPDATE OF status, visibility ON `videos`
	WHEN (old.visibility = 'public' AND old.status = 'ready') <> (new.visibility = 'public' AND new.status = 'ready') BEGIN
	DELETE FROM caption_transcripts_fts WHERE rowid = old.rowid;
	INSERT INTO caption_transcripts_fts (rowid, text)
		SELECT new.rowid, (SELECT group_concat(text, char(10)) FROM (
			SELECT text FROM caption_cues WHERE video_id = new.id ORDER BY lang, start_ms))
		WHERE new.visibility = 'public' AND new.status = 'ready'
			AND EXISTS (SELECT 1 FROM caption_cues WHERE video_id = new.id);
END;
--> statement-breakpoint
CREATE TRIGGER `caption_transcripts_video_delete` AFTER DELETE ON `videos` BEGIN
	DELETE FROM caption_transcripts_fts WHERE rowid = old.rowid;
END;
