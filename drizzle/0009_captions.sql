CREATE TABLE `caption_cues` (
	`id` integer PRIMARY KEY NOT NULL,
	`video_id` text NOT NULL,
	`lang` text NOT NULL,
	`start_ms` integer NOT NULL,
	`end_ms` integer NOT NULL,
	`text` text NOT NULL,
	FOREIGN KEY (`video_id`) REFERENCES `videos`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `caption_cues_track` ON `caption_cues` (`video_id`,`lang`,`start_ms`);--> statement-breakpoint
CREATE TABLE `captions` (
	`video_id` text NOT NULL,
	`lang` text NOT NULL,
	`label` text NOT NULL,
	`cues` integer NOT NULL,
	`bytes` integer NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`video_id`, `lang`),
	FOREIGN KEY (`video_id`) REFERENCES `videos`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
-- Full-text search over what videos say: every cue's text, indexed like
-- `videos_fts` (0003) so one FTS5 query matches both. As in 0004, only the
-- cues of public, ready videos are indexed: bm25 scores, which cursors carry,
-- must not reveal words of unlisted or unfinished videos. FTS5
-- external-content deletes must name exactly what was indexed, hence the
-- WHEN clauses, which ask the video whether its cues are in the index.
CREATE VIRTUAL TABLE `caption_cues_fts` USING fts5(
	text,
	content='caption_cues', content_rowid='id',
	tokenize='unicode61 remove_diacritics 2',
	prefix='2 3'
);
--> statement-breakpoint
CREATE TRIGGER `caption_cues_fts_insert` AFTER INSERT ON `caption_cues`
	WHEN EXISTS (SELECT 1 FROM videos WHERE id = new.video_id AND visibility = 'public' AND status = 'ready') BEGIN
	INSERT INTO caption_cues_fts (rowid, text) VALUES (new.id, new.text);
END;
--> statement-breakpoint
CREATE TRIGGER `caption_cues_fts_delete` AFTER DELETE ON `caption_cues`
	WHEN EXISTS (SELECT 1 FROM videos WHERE id = old.video_id AND visibility = 'public' AND status = 'ready') BEGIN
	INSERT INTO caption_cues_fts (caption_cues_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
--> statement-breakpoint
-- A video that becomes searchable brings its cues into the index; one that
-- stops being so takes them out.
CREATE TRIGGER `caption_cues_fts_video` AFTER UPDATE OF status, visibility ON `videos`
	WHEN (old.visibility = 'public' AND old.status = 'ready') <> (new.visibility = 'public' AND new.status = 'ready') BEGIN
	INSERT INTO caption_cues_fts (caption_cues_fts, rowid, text)
		SELECT 'delete', id, text FROM caption_cues
		WHERE video_id = old.id AND old.visibility = 'public' AND old.status = 'ready';
	INSERT INTO caption_cues_fts (rowid, text)
		SELECT id, text FROM caption_cues
		WHERE video_id = new.id AND new.visibility = 'public' AND new.status = 'ready';
END;
--> statement-breakpoint
-- A deleted video's tracks and cues go with it, BEFORE its row does: the cue
-- trigger above must still find the video to take its cues out of the index
-- (a foreign-key cascade would run once the row is gone, and leave them in).
CREATE TRIGGER `captions_video_delete` BEFORE DELETE ON `videos` BEGIN
	DELETE FROM caption_cues WHERE video_id = old.id;
	DELETE FROM captions WHERE video_id = old.id;
END;
