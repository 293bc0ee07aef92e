-- Full-text search over title, tags and description (FTS5, external content
-- on `videos`, kept in step by triggers). unicode61 with remove_diacritics 2
-- makes matching case- and accent-insensitive; prefix indexes keep "sun*" fast.
CREATE VIRTUAL TABLE `videos_fts` USING fts5(
	title, tags, description,
	content='videos', content_rowid='rowid',
	tokenize='unicode61 remove_diacritics 2',
	prefix='2 3'
);
--> statement-breakpoint
INSERT INTO `videos_fts` (rowid, title, tags, description) SELECT rowid, title, tags, description FROM `videos`;
--> statement-breakpoint
CREATE TRIGGER `videos_fts_insert` AFTER INSERT ON `videos` BEGIN
	INSERT INTO videos_fts (rowid, title, tags, description) VALUES (new.rowid, new.title, new.tags, new.description);
END;
--> statement-breakpoint
CREATE TRIGGER `videos_fts_delete` AFTER DELETE ON `videos` BEGIN
	INSERT INTO videos_fts (videos_fts, rowid, title, tags, description) VALUES ('delete', old.rowid, old.title, old.tags, old.description);
END;
--> statement-breakpoint
CREATE TRIGGER `videos_fts_update` AFTER UPDATE OF title, tags, description ON `videos` BEGIN
	INSERT INTO videos_fts (videos_fts, rowid, title, tags, description) VALUES ('delete', old.rowid, old.title, old.tags, old.description);
	INSERT INTO videos_fts (rowid, title, tags, description) VALUES (new.rowid, new.title, new.tags, new.description);
END;
--> statement-breakpoint
-- One row per (tag, video), for exact tag filters and tag suggestions on an index.
CREATE TABLE `video_tags` (
	`tag` text NOT NULL,
	`video_id` text NOT NULL REFERENCES `videos`(`id`) ON DELETE CASCADE,
	PRIMARY KEY (`tag`, `video_id`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `video_tags_video` ON `video_tags` (`video_id`);
--> statement-breakpoint
INSERT OR IGNORE INTO `video_tags` (tag, video_id) SELECT lower(j.value), v.id FROM `videos` v, json_each(v.tags) j;
--> statement-breakpoint
CREATE TRIGGER `video_tags_insert` AFTER INSERT ON `videos` BEGIN
	INSERT OR IGNORE INTO video_tags (tag, video_id) SELECT lower(value), new.id FROM json_each(new.tags);
END;
--> statement-breakpoint
CREATE TRIGGER `video_tags_update` AFTER UPDATE OF tags ON `videos` BEGIN
	DELETE FROM video_tags WHERE video_id = new.id;
	INSERT OR IGNORE INTO video_tags (tag, video_id) SELECT lower(value), new.id FROM json_each(new.tags);
END;
--> statement-breakpoint
CREATE TRIGGER `video_tags_delete` AFTER DELETE ON `videos` BEGIN
	DELETE FROM video_tags WHERE video_id = old.id;
END;
